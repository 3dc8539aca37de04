"""The mail settings: `SMTP_URL` (scheme, host, port, user and password), `MAIL_FROM`,
`STAFF_BASE_URL`, and what production refuses of them."""

from __future__ import annotations

import pytest

from grievance.config import ConfigError, Settings, SmtpServer, parse_smtp_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpServer("smtp", "mail.example.org", 25)),
        ("smtp+starttls://relay:2525", SmtpServer("smtp+starttls", "relay", 2525)),
        (
            "smtps://user%40example.org:p%40ss%3Aword@mail.example.org",
            SmtpServer("smtps", "mail.example.org", 465, "user@example.org", "p@ss:word"),
        ),
        ("SMTP+STARTTLS://mail.example.org", SmtpServer("smtp+starttls", "mail.example.org", 587)),
    ],
)
def test_smtp_urls_are_read(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.org", "smtp://", "smtp://host/path", "smtp://user@host", "smtp://h:x"],
)
def test_wrong_smtp_urls_are_refused(url):
    with pytest.raises(ConfigError, match="SMTP_URL"):
        parse_smtp_url(url)


def test_the_password_is_not_in_the_settings_repr():
    server = parse_smtp_url("smtps://mailer:very-secret-word@mail.example.org")
    assert "very-secret-word" not in repr(server)


BASE = {
    "GRIEVANCE_ENV": "production",
    "SECRET_KEY": "k7Jq2vX9pL4mN8rT1wY6zB3cF5hD0sG-aE_uI2oP9lK",
    "DATABASE_URL": "postgresql://db/grievance",
    "GRIEVANCE_KEYRING": "{}",
    "PUBLIC_BASE_URL": "https://complaints.example.org",
}


def test_production_needs_mail_from_with_an_smtp_url():
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        Settings.from_env({**BASE, "SMTP_URL": "smtps://mail.example.org"})
    settings = Settings.from_env(
        {**BASE, "SMTP_URL": "smtps://mail.example.org", "MAIL_FROM": "Complaints <c@example.org>"}
    )
    assert settings.mail_from == "Complaints <c@example.org>"
    assert settings.smtp == SmtpServer("smtps", "mail.example.org", 465)
    assert Settings.from_env(BASE).smtp is None  # no SMTP_URL: mails wait


@pytest.mark.parametrize("value", ["nobody", "a@b", "Name <x@example.org>\nBcc: y@example.org"])
def test_mail_from_must_be_one_address(value):
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        Settings.from_env({**BASE, "MAIL_FROM": value})


def test_production_refuses_a_password_in_clear_and_an_http_staff_url():
    with pytest.raises(ConfigError, match="smtp\\+starttls"):
        Settings.from_env(
            {
                **BASE,
                "SMTP_URL": "smtp://user:password@mail.example.org",
                "MAIL_FROM": "c@example.org",
            }
        )
    Settings.from_env(  # a relay on this machine may take a password in clear
        {**BASE, "SMTP_URL": "smtp://user:password@localhost", "MAIL_FROM": "c@example.org"}
    )
    with pytest.raises(ConfigError, match="STAFF_BASE_URL must be an https"):
        Settings.from_env({**BASE, "STAFF_BASE_URL": "http://staff.example.org"})
    with pytest.raises(ConfigError, match="STAFF_BASE_URL must be an http"):
        Settings.from_env({**BASE, "STAFF_BASE_URL": "staff.example.org"})


def test_the_staff_url_defaults_to_the_public_one():
    settings = Settings.from_env(BASE)
    assert settings.staff_url == "https://complaints.example.org"
    apart = Settings.from_env({**BASE, "STAFF_BASE_URL": "https://staff.example.org/"})
    assert apart.staff_url == "https://staff.example.org"
