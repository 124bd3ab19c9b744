"""``pingan demo``: migrate, load the synthetic demo district and its accounts, then serve."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core.demo import DemoContext, load_demo

PASSWORD_ENV = "PINGAN_DEMO_PASSWORD"  # noqa: S105 — the variable name, not a password


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = (
        "加载演示辖区（合成的天津市河西区：街道、社区、网格、职能部门）和每个岗位一个演示账号，然后启动服务。"
        " Load the synthetic demo district and one demo account per role, then serve. "
        f"Set {PASSWORD_ENV} to give every demo account that password. Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="只加载数据，不启动服务 / load only, do not serve"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="不启动后台任务进程 / do not start pingan worker beside the server",
        )
        parser.add_argument("--host", default="127.0.0.1", help="服务监听地址 / host to serve on (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="服务端口 / port to serve on (8000)")

    def handle(self, *args: Any, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "生产环境（PINGAN_ENV=production）禁止加载演示数据：演示账号和合成数据不能进入真实系统。"
                " The demo refuses to run in production."
            )
        password = os.environ.get(PASSWORD_ENV) or None
        if password:
            try:
                password_validation.validate_password(password)
            except ValidationError as exc:
                self.stderr.write(
                    self.style.WARNING(
                        f"注意：{PASSWORD_ENV} 不满足密码规则（{'；'.join(exc.messages)}），仍将使用。"
                    )
                )

        self.stdout.write("正在迁移数据库 Migrating…")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("正在加载演示数据 Loading demo data…")
        ctx = load_demo(DemoContext(password=password, stdout=self.stdout))
        self._summary(ctx)
        self._accounts(ctx)

        if options["no_serve"]:
            return
        host, port = options["host"], options["port"]
        if not options["no_worker"]:
            # the background side beside the server (large exports and imports, deadlines, reminders), as a
            # deployment runs it as a service of its own; Ctrl+C in the terminal stops both
            self.stdout.write("启动后台任务进程 Starting the worker (pingan worker)…")
            subprocess.Popen([sys.executable, "-m", "pingan", "worker"])
        self.stdout.write(f"\n启动服务 Serving at http://{host}:{port}/ ，用上面的账号登录。")
        call_command("serve", host=host, port=port)

    def _summary(self, ctx: DemoContext) -> None:
        c = ctx.counts
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"演示辖区 Demo district: {ctx.notes.get('district', '')}"))
        self.stdout.write(
            f"  街道 streets {c.get('streets', 0)} · 社区 communities {c.get('communities', 0)}"
            f" · 网格 grids {c.get('grids', 0)} · 职能部门 departments {c.get('departments', 0)}"
            f" · 演示账号 users {c.get('users', 0)} · 人口 population {ctx.notes.get('population', 0):,}"
        )
        self.stdout.write(
            f"  本次运行 this run: 辖区 新建 {c.get('areas_created', 0)} / 更新 {c.get('areas_updated', 0)}；"
            f"部门 新建 {c.get('departments_created', 0)} / 更新 {c.get('departments_updated', 0)}；"
            f"账号 新建 {c.get('users_created', 0)} / 更新 {c.get('users_updated', 0)}"
        )

    def _accounts(self, ctx: DemoContext) -> None:
        rows = [("用户名 username", "岗位 role", "辖区/部门 scope")]
        for username, role, scope in ctx.notes.get("accounts", []):
            rows.append((username, role, scope or "—（三员不绑定辖区或部门）"))
        widths = [max(_width(row[i]) for row in rows) + 2 for i in range(2)]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("演示账号 Demo accounts"))
        for i, (username, role, scope) in enumerate(rows):
            line = f"  {_pad(username, widths[0])}{_pad(role, widths[1])}{scope}"
            self.stdout.write(self.style.MIGRATE_HEADING(line) if i == 0 else line)
        self.stdout.write("")

        generated = ctx.notes.get("generated_password")
        if ctx.password:
            self.stdout.write(f"密码: ${PASSWORD_ENV}（环境变量的值，已设置到全部演示账号）")
        elif generated:
            self.stdout.write(self.style.WARNING(f"密码: {generated}"))
            if len(ctx.created_users) < ctx.notes.get("account_count", 0):
                self.stdout.write(
                    f"  （只用于本次新建的账号：{'、'.join(ctx.created_users)}；其余账号密码不变）"
                )
            self.stdout.write(
                f"  只显示这一次，请记下。设置 {PASSWORD_ENV} 后重新运行可重置全部演示账号的密码。"
            )
        else:
            self.stdout.write(f"密码: 已在首次运行时打印；设置 {PASSWORD_ENV} 可重置")
        self._totp(ctx)

    def _totp(self, ctx: DemoContext) -> None:
        enrolled = ctx.notes.get("totp_secrets") or []
        if not enrolled:
            return
        from django.conf import settings

        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS("动态口令 TOTP secrets（这些岗位登录时还需验证器上的 6 位数字）")
        )
        for username, secret in enrolled:
            self.stdout.write(f"  {_pad(username, 12)}{secret}")
        self.stdout.write(
            f"  已写入 {settings.VAR_DIR / 'demo-accounts.txt'}（用户名<Tab>密钥）。把密钥加入手机验证器，"
            "或运行 python -c \"import pyotp; print(pyotp.TOTP('密钥').now())\" 得到当前验证码。"
        )
