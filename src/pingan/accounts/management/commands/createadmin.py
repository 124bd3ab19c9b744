"""``pingan createadmin``: create the three separated administrators (三员: system, security, audit).

Production has no default accounts: this command is how the first accounts come to exist. It asks for the
user names and passwords (validated with the security policy), or, with ``--no-input``, reads the passwords
from PINGAN_SYSTEM_ADMIN_PASSWORD, PINGAN_SECURITY_ADMIN_PASSWORD and PINGAN_AUDIT_ADMIN_PASSWORD. The three
passwords must differ. Each administrator enrols a TOTP authenticator at the first login.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from pingan.accounts.models import User
from pingan.accounts.roles import Role


@dataclass(frozen=True)
class AdminSpec:
    role: Role
    default_username: str
    option: str
    env: str
    default_name: str


ADMINS = (
    AdminSpec(Role.SYSTEM_ADMIN, "sysadmin", "system_admin", "PINGAN_SYSTEM_ADMIN_PASSWORD", "系统管理员"),
    AdminSpec(
        Role.SECURITY_ADMIN, "secadmin", "security_admin", "PINGAN_SECURITY_ADMIN_PASSWORD", "安全管理员"
    ),
    AdminSpec(Role.AUDIT_ADMIN, "auditadmin", "audit_admin", "PINGAN_AUDIT_ADMIN_PASSWORD", "审计管理员"),
)


def stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _messages(exc: ValidationError) -> str:
    return "；".join(exc.messages)


class Command(BaseCommand):
    help = (
        "创建三员（系统管理员、安全管理员、审计管理员）账号。Create the three separated administrators. "
        "Interactive by default; --no-input reads the passwords from PINGAN_SYSTEM_ADMIN_PASSWORD, "
        "PINGAN_SECURITY_ADMIN_PASSWORD and PINGAN_AUDIT_ADMIN_PASSWORD."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="不提问，密码取自环境变量 / no prompts, passwords from the environment",
        )
        parser.add_argument(
            "--username-prefix",
            default="",
            help="用户名前缀，如 hx_ 得到 hx_sysadmin、hx_secadmin、hx_auditadmin",
        )
        for spec in ADMINS:
            parser.add_argument(
                f"--{spec.option.replace('_', '-')}",
                dest=spec.option,
                default=None,
                help=f"{spec.default_name}的用户名 (default: <prefix>{spec.default_username})",
            )
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help="用户名已存在时跳过（不修改现有账号） / leave existing accounts alone",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interactive"] and not stdin_is_tty():
            raise CommandError("标准输入不是终端：请使用 --no-input 并通过环境变量提供密码")
        plan: list[tuple[AdminSpec, str, str, str]] = []  # spec, username, full name, password
        for spec in ADMINS:
            username = (
                options.get(spec.option) or f"{options['username_prefix']}{spec.default_username}"
            ).lower()
            if options["interactive"]:
                username = self._ask(f"{spec.default_name}用户名 [{username}]: ") or username
            existing = User.objects.filter(username=username).first()
            if existing is not None:
                if options["skip_existing"]:
                    self.stdout.write(f"已存在，跳过：{username}（{existing.get_role_display_safe()}）")
                    continue
                raise CommandError(f"用户名 {username} 已存在；换一个用户名，或加 --skip-existing 跳过")
            full_name = spec.default_name
            if options["interactive"]:
                full_name = self._ask(f"{spec.default_name}姓名 [{full_name}]: ") or full_name
            password = self._password(spec, username, interactive=options["interactive"])
            plan.append((spec, username, full_name, password))

        passwords = [p for *_, p in plan]
        if len(set(passwords)) != len(passwords):
            raise CommandError("三员的密码必须互不相同")
        usernames = [u for _, u, _, _ in plan]
        if len(set(usernames)) != len(usernames):
            raise CommandError("三员的用户名必须互不相同")

        from pingan.accounts.services import user_save

        with transaction.atomic():
            for spec, username, full_name, password in plan:
                try:
                    user_save(
                        actor=None,
                        data={"username": username, "full_name": full_name, "role": spec.role.value},
                        password=password,
                    )
                except ValidationError as exc:
                    raise CommandError(f"{username}: {_messages(exc)}") from None
                self.stdout.write(self.style.SUCCESS(f"已创建 {spec.default_name}：{username}"))
        if plan:
            self.stdout.write("")
            self.stdout.write(
                "首次登录：输入用户名和密码后，系统要求用手机上的验证器"
                "（TOTP，如 FreeOTP、Microsoft Authenticator）扫描二维码绑定动态口令，"
                "并显示 10 个一次性恢复码，请抄写后分开妥善保管。"
                "此后每次登录都需要密码和验证器上的 6 位数字。"
            )
            self.stdout.write(
                "三员职责分离：系统管理员管理账号和辖区，安全管理员管理安全策略，审计管理员查看审计日志；"
                "三人不得由同一人担任，也不能查看业务和个人信息。"
            )

    def _ask(self, prompt: str) -> str:
        return input(prompt).strip()

    def _password(self, spec: AdminSpec, username: str, *, interactive: bool) -> str:
        candidate = User(username=username, role=spec.role.value, full_name=spec.default_name)
        if not interactive:
            password = os.environ.get(spec.env, "")
            if not password:
                raise CommandError(f"请设置环境变量 {spec.env}（{spec.default_name} {username} 的密码）")
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as exc:
                raise CommandError(f"{spec.env} 不符合密码规则：{_messages(exc)}") from None
            return password
        self.stdout.write("密码规则：" + "；".join(password_validation.password_validators_help_texts()))
        for _ in range(5):
            password = getpass.getpass(f"{username} 的密码: ")
            if password != getpass.getpass("再输入一次: "):
                self.stderr.write("两次输入不一致，请重新输入")
                continue
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as exc:
                self.stderr.write(_messages(exc))
                continue
            return password
        raise CommandError("多次输入的密码都不符合要求，已放弃")
