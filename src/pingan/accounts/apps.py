from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pingan.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from pingan.core.navigation import NavItem, perm, register
        from pingan.core.selectors import Figure, register_figures

        register(
            NavItem(
                _("系统管理"),
                _("用户与任职"),
                "accounts:users",
                "people",
                perm("accounts.view_user_list"),
                order=80,
            )
        )
        register(
            NavItem(
                _("系统管理"),
                _("安全策略"),
                "accounts:security_policy",
                "shield-lock",
                perm("accounts.manage_security_policy"),
                order=82,
            )
        )
        register(
            NavItem(
                _("个人"),
                _("账号安全"),
                "accounts:security",
                "person-lock",
                lambda user: bool(user.is_authenticated),
                order=95,
            )
        )

        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from pingan.accounts import signals

        user_logged_in.connect(signals.on_login, dispatch_uid="pingan_accounts_on_login")
        user_logged_out.connect(signals.on_logout, dispatch_uid="pingan_accounts_on_logout")

        def user_figures(user: object) -> list[Figure]:
            from django.urls import reverse

            from pingan.accounts.selectors import user_list

            if not user.has_perm("accounts.view_user_list"):  # type: ignore[attr-defined]
                return []
            count = user_list(user=user).filter(is_active=True).count()  # type: ignore[arg-type]
            return [Figure(_("在岗用户"), count, url=reverse("accounts:users"))]

        register_figures(user_figures, order=20)

        from pingan.accounts.demo import load_users
        from pingan.core.demo import register_demo

        register_demo("accounts", 20, load_users)
