from django.urls import path

from pingan.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("login/enrol/", views.login_enrol, name="login_enrol"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("security/", views.account_security, name="security"),
    path("security/totp/", views.totp_enrol, name="totp_enrol"),
    path("security/totp/disable/", views.totp_disable, name="totp_disable"),
    path("security/recovery-codes/", views.recovery_codes_regenerate, name="recovery_codes"),
    path("security/sessions/end-others/", views.sessions_end_others, name="sessions_end_others"),
    path("security-policy/", views.security_policy, name="security_policy"),
    path("security-policy/totp-reset/", views.security_totp_reset, name="security_totp_reset"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/end-sessions/", views.user_end_sessions, name="user_end_sessions"),
]
