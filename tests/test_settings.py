"""reconcile.yaml: defaults, validation located at file:line:col, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.desired import load_settings
from reconcile.errors import AuthError, SettingsError
from reconcile.settings import Environment, Settings, credentials_for


def settings_problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "reconcile.yaml").write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path)
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


class TestLoadSettings:
    def test_minimal_file_gets_defaults(self, tmp_path: Path) -> None:
        """client_id alone is enough; everything else has a default."""
        (tmp_path / "reconcile.yaml").write_text("client_id: DEMO\n")
        settings = load_settings(tmp_path)
        assert settings.client_id == "DEMO"
        assert settings.default_environment == "local"
        assert settings.prune is False
        assert settings.limits.max_file_bytes == 5_000_000

    def test_unknown_key_suggests_the_close_one(self, tmp_path: Path) -> None:
        """A misspelt setting is reported at its key with a suggestion."""
        found = settings_problems(tmp_path, "client_id: D\nlimits:\n  page_sise: 10\n")
        assert found == ["reconcile.yaml:3:3: unknown field 'page_sise'; did you mean 'page_size'?"]

    def test_environment_needs_exactly_one_target(self, tmp_path: Path) -> None:
        """An environment with both base_url and embedded is refused at its mapping."""
        text = "client_id: D\nenvironments:\n  qa:\n    base_url: https://x\n    embedded: true\n"
        assert settings_problems(tmp_path, text) == [
            "reconcile.yaml:4:5: environments.qa: set exactly one of `base_url` or `embedded: true`"
        ]

    def test_unknown_field_inside_an_environment(self, tmp_path: Path) -> None:
        """Suggestions work below the environments mapping too."""
        text = "client_id: D\nenvironments:\n  qa:\n    base_ur: https://x\n"
        found = settings_problems(tmp_path, text)
        assert "reconcile.yaml:4:5: unknown field 'base_ur'; did you mean 'base_url'?" in found

    def test_default_environment_must_exist(self, tmp_path: Path) -> None:
        """default_environment must name a built-in or declared environment."""
        found = settings_problems(tmp_path, "client_id: D\ndefault_environment: qa\n")
        assert found == [
            "reconcile.yaml:1:1: default_environment 'qa' is not defined "
            "(known: local, production, sandbox)"
        ]

    def test_limits_out_of_range(self, tmp_path: Path) -> None:
        """bulk_size above PB's 200 is refused with the bound."""
        found = settings_problems(tmp_path, "client_id: D\nlimits:\n  bulk_size: 500\n")
        assert found == ["reconcile.yaml:3:14: limits.bulk_size must be at most 200, not 500"]

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        """A list is not a settings file."""
        assert settings_problems(tmp_path, "- client_id\n") == [
            "reconcile.yaml:1:1: reconcile.yaml must be a mapping of settings, not a list"
        ]

    def test_yaml_error_is_located(self, tmp_path: Path) -> None:
        """Syntax errors in reconcile.yaml carry their position too."""
        found = settings_problems(tmp_path, "client_id: [D\n")
        assert found[0].startswith("reconcile.yaml:2:1: YAML syntax error:")

    def test_missing_file(self, tmp_path: Path) -> None:
        """Without reconcile.yaml the message says how to create it."""
        with pytest.raises(SettingsError, match="client_id: YOUR-PB-CLIENT-ID"):
            load_settings(tmp_path)

    def test_empty_file_says_what_to_write(self, tmp_path: Path) -> None:
        """An empty reconcile.yaml names the one line it needs."""
        assert settings_problems(tmp_path, "\n") == [
            "reconcile.yaml:1:1: file is empty; add at least the line "
            "`client_id: YOUR-PB-CLIENT-ID`"
        ]

    def test_misnamed_settings_file(self, tmp_path: Path) -> None:
        """reconcile.yml instead of reconcile.yaml gets a rename hint."""
        (tmp_path / "reconcile.yml").write_text("client_id: D\n")
        with pytest.raises(
            SettingsError, match=r"found reconcile\.yml; rename it to reconcile\.yaml"
        ):
            load_settings(tmp_path)


class TestEnvironments:
    def test_builtin_environments(self) -> None:
        """local, sandbox and production exist without declaring them."""
        settings = Settings(client_id="D")
        assert settings.environment(None)[1].embedded
        assert settings.environment("production")[1].require_plan_file

    def test_unknown_environment_is_a_settings_error(self) -> None:
        """Asking for an undeclared environment names the known ones."""
        with pytest.raises(SettingsError, match="known: local, production, sandbox"):
            Settings(client_id="D").environment("qa")


class TestCredentials:
    def test_per_environment_variables_win(self) -> None:
        """PB_<ENV>_API_KEY/SECRET take precedence over the generic pair."""
        environ = {
            "PB_API_KEY": "k",
            "PB_API_SECRET": "s",
            "PB_SANDBOX_API_KEY": "k2",
            "PB_SANDBOX_API_SECRET": "s2",
        }
        credentials = credentials_for("sandbox", environ)
        assert credentials.key.get_secret_value() == "k2"
        assert "k2" not in repr(credentials)

    def test_missing_credentials_name_the_variables_only(self) -> None:
        """With nothing set, the error lists both pairs of variable names."""
        with pytest.raises(AuthError) as caught:
            credentials_for("sandbox", {"PB_OTHER_API_KEY": "secret-value"})
        assert str(caught.value) == (
            "credentials: no credentials for environment 'sandbox': set PB_SANDBOX_API_KEY and "
            "PB_SANDBOX_API_SECRET (or PB_API_KEY and PB_API_SECRET)"
        )
        assert "secret-value" not in str(caught.value)

    @pytest.mark.parametrize(
        ("environ", "present", "missing"),
        [
            ({"PB_API_KEY": "secret-value"}, "PB_API_KEY", "PB_API_SECRET"),
            ({"PB_API_SECRET": "secret-value"}, "PB_API_SECRET", "PB_API_KEY"),
            (
                {"PB_SANDBOX_API_KEY": "secret-value", "PB_API_KEY": "k", "PB_API_SECRET": "s"},
                "PB_SANDBOX_API_KEY",
                "PB_SANDBOX_API_SECRET",
            ),
        ],
    )
    def test_half_a_pair_names_the_missing_variable(
        self, environ: dict[str, str], present: str, missing: str
    ) -> None:
        """A key without its secret (or the reverse) names exactly the variable to set."""
        with pytest.raises(AuthError) as caught:
            credentials_for("sandbox", environ)
        message = str(caught.value)
        assert f"{present} is set but {missing} is not; set {missing} too" in message
        assert "secret-value" not in message


class TestBuiltinOverrides:
    def test_redefined_production_keeps_require_plan_file(self, tmp_path: Path) -> None:
        """A production entry that only moves base_url still requires a saved plan."""
        (tmp_path / "reconcile.yaml").write_text(
            "client_id: D\nenvironments:\n  production:\n    base_url: https://pb.example\n"
        )
        env = load_settings(tmp_path).environment("production")[1]
        assert env.base_url == "https://pb.example"
        assert env.require_plan_file is True

    def test_explicit_false_wins(self, tmp_path: Path) -> None:
        """require_plan_file: false on production is honoured when written out."""
        (tmp_path / "reconcile.yaml").write_text(
            "client_id: D\nenvironments:\n  production:\n    require_plan_file: false\n"
        )
        env = load_settings(tmp_path).environment("production")[1]
        assert (env.base_url, env.require_plan_file) == (
            "https://shipping-api.pitneybowes.com",
            False,
        )

    def test_new_target_replaces_the_builtin_target(self, tmp_path: Path) -> None:
        """embedded: true on sandbox drops the built-in base_url instead of clashing with it."""
        (tmp_path / "reconcile.yaml").write_text(
            "client_id: D\nenvironments:\n  sandbox:\n    embedded: true\n"
        )
        env = load_settings(tmp_path).environment("sandbox")[1]
        assert (env.embedded, env.base_url) == (True, None)

    def test_models_built_in_code_merge_too(self) -> None:
        """Settings built from Environment objects merge over the built-ins the same way."""
        settings = Settings(
            client_id="D", environments={"production": Environment(base_url="https://x.example")}
        )
        assert settings.environment("production")[1].require_plan_file is True


class TestBaseUrl:
    """validate refuses a base_url that plan would refuse, at its line in reconcile.yaml."""

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("ftp://pb.example", "is not an https:// URL with a host"),
            ("not a url", "is not an https:// URL with a host"),
            ("https://", "is not an https:// URL with a host"),
            ("http://example.com", "plain http to example.com would send credentials"),
            ("https://user:pw@pb.example", "must not carry credentials"),
            ("https://pb.example/?x=1", "must not have a query or fragment"),
            ("https://pb.example:99999", "is not a valid URL"),
        ],
    )
    def test_bad_urls_are_located(self, tmp_path: Path, url: str, reason: str) -> None:
        """Each bad form is reported at the value with the reason."""
        text = f"client_id: D\nenvironments:\n  qa:\n    base_url: '{url}'\n"
        (found,) = settings_problems(tmp_path, text)
        assert found.startswith("reconcile.yaml:4:15: environments.qa.base_url: ")
        assert reason in found
        assert "pw" not in found.removeprefix("reconcile.yaml:4:15: environments.qa.base_url: ")

    @pytest.mark.parametrize(
        "url",
        [
            "https://pb.example",
            "https://pb.example:8443/gateway/",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "http://localhost:8080",
        ],
    )
    def test_good_urls_pass(self, tmp_path: Path, url: str) -> None:
        """https anywhere (with a port or path prefix) and http to loopback are accepted."""
        (tmp_path / "reconcile.yaml").write_text(
            f"client_id: D\nenvironments:\n  qa:\n    base_url: '{url}'\n"
        )
        assert load_settings(tmp_path).environment("qa")[1].base_url == url


class TestLimitBounds:
    """Limits that would make a run look hung (or never give up) are refused with the bound."""

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("requests_per_second: 0.01", "limits.requests_per_second must be at least 1"),
            ("retry_timeout_seconds: 86400", "limits.retry_timeout_seconds must be at most 3600"),
            ("read_timeout_seconds: 0.001", "limits.read_timeout_seconds must be at least 1"),
            ("connect_timeout_seconds: 10000", "must be at most 600"),
            ("retry_wait_max_seconds: 0", "limits.retry_wait_max_seconds must be at least 0.01"),
        ],
    )
    def test_out_of_range_values_are_located(self, tmp_path: Path, line: str, message: str) -> None:
        """Each value outside its range is reported at reconcile.yaml:3 with its bound."""
        (found,) = settings_problems(tmp_path, f"client_id: D\nlimits:\n  {line}\n")
        assert found.startswith("reconcile.yaml:3:") and message in found

    def test_first_wait_cannot_exceed_the_longest(self, tmp_path: Path) -> None:
        """retry_wait_initial_seconds above retry_wait_max_seconds is refused, naming both."""
        text = (
            "client_id: D\nlimits:\n  retry_wait_initial_seconds: 30\n  retry_wait_max_seconds: 5\n"
        )
        (found,) = settings_problems(tmp_path, text)
        assert "retry_wait_initial_seconds (30.0) is more than retry_wait_max_seconds" in found
