"""Report links and artifact keys: a signature opens one file; keys group every run of one thing."""

import pytest

from tunefleet import reports

KEY = "a signing key"


def test_a_link_opens_the_one_file_it_was_signed_for():
    url = reports.link("https://tunefleet.example/api/", KEY, "sweeps", 7, "report.html")
    path, sig = url.removeprefix("https://tunefleet.example/api").split("?sig=")
    assert path == "/artifacts/sweeps/7/report.html" and len(sig) == 32
    assert reports.is_signed(KEY, path, sig)
    assert not reports.is_signed(KEY, "/artifacts/sweeps/8/report.html", sig)
    assert not reports.is_signed(KEY, "/artifacts/sweeps/7/report.json", sig)
    assert not reports.is_signed("another key", path, sig)
    assert not reports.is_signed(KEY, path, "é" * 32)  # not even compared


def test_no_public_url_means_no_link():
    assert reports.link("", KEY, "experiments", "a-uuid", "best_so_far.png") is None


def test_the_link_signature_is_not_the_token_signature():
    """A link's signature is made with a key derived for links, so it is never an HMAC a token uses."""
    import hashlib
    import hmac

    path = reports.path("benchmarks", 1, "heatmap.png")
    assert reports.signature(KEY, path) != hmac.new(KEY.encode(), path.encode(), hashlib.sha256).hexdigest()[:32]


def test_only_declared_report_files_have_store_keys():
    assert reports.store_key("benchmarks", 3, "heatmap.png") == "benchmarks/3/report/heatmap.png"
    assert reports.media_type("report.html") == "text/html; charset=utf-8"
    with pytest.raises(KeyError):
        reports.store_key("benchmarks", 3, "../../jwt.key")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("rf", "benchmark-rf"),
        ("My Model v2.1", "benchmark-my-model-v2-1"),
        ("__", "benchmark-unnamed"),
        ("é" * 3 + "x", "benchmark-x"),
        ("a" * 200, "benchmark-" + "a" * 80),
    ],
)
def test_artifact_keys_are_lowercase_words_joined_by_dashes(name, key):
    assert reports.artifact_key("benchmark", name) == key


def test_a_key_extends_a_key():
    assert reports.artifact_key(reports.artifact_key("bo", "Branin"), "best_so_far") == "bo-branin-best-so-far"
