"""Data layer: registry, tidy tables, downloads, checksums and the messages for faults."""
import hashlib
import http.server
import os
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

import lemma_helpers as lh
from lemma_helpers import datasets

MIRROR = Path(os.environ.get("LEMMA_DATA_DIR", "../shared/data"))
needs_mirror = pytest.mark.skipif(not (MIRROR / "ssls_5.1.txt").exists(),
                                  reason="mirrored data not available (set LEMMA_DATA_DIR)")


def test_list_datasets_columns_and_counts():
    table = lh.list_datasets()
    assert list(table.columns) == ["name", "description", "level1_units", "groups", "group", "source", "licence"]
    assert dict(zip(table["name"], table["level1_units"])) == {"ess_hedonism": 36527, "ssls": 33988, "exam": 4059}
    assert dict(zip(table["name"], table["groups"])) == {"ess_hedonism": 20, "ssls": 508, "exam": 65}


@needs_mirror
def test_ess_tidy():
    df = lh.load_dataset("ess_hedonism")
    assert df.shape[0] == 36527
    assert list(df.columns) == ["country", "respondent", "hedonism", "age", "female", "income",
                                "income_band", "eduyrs", "income_mean"]
    assert isinstance(df["country"].dtype, pd.CategoricalDtype)
    assert df["country"].nunique() == 20
    assert set(df["country"].cat.categories) == set(datasets.ESS_COUNTRIES.values())
    assert df["age"].isna().sum() == 163 and df["female"].isna().sum() == 31
    assert df["income"].isna().sum() == 6783 and df["eduyrs"].isna().sum() == 445
    assert df["age"].min() >= 14 and df["age"].max() <= 101
    assert df["income_band"].cat.ordered and df["income_band"].isna().sum() == 6783
    sizes = df.groupby("country", observed=True).size()
    assert sizes.min() == 1213 and sizes.max() == 2785 and sizes.idxmin() == "Czech Republic"
    # country mean income is the mean band over respondents with a known income
    pl = df[df["country"] == "Poland"]
    assert pl["income_mean"].iloc[0] == pytest.approx(pl["income"].mean())
    assert round(df["hedonism"].mean(), 3) == -0.204


@needs_mirror
def test_ssls_tidy():
    df = lh.load_dataset("ssls")
    assert df.shape == (33988, 9)
    assert df["schoolid"].nunique() == 508
    assert list(df["sclass"].cat.categories) == ["managerial", "intermediate", "working", "unclassified"]
    assert sorted(df["cohort90"].unique()) == [-6, -4, -2, 0, 6, 8]
    assert set(df["schtype"].unique()) == {0, 1}
    sizes = df.groupby("schoolid", observed=True).size()
    assert sizes.min() == 1 and sizes.max() == 190


def test_exam_bundled_works_offline(monkeypatch):
    monkeypatch.delenv("LEMMA_DATA_DIR", raising=False)
    df = lh.load_dataset("exam")
    assert df.shape[0] == 4059 and df["school"].nunique() == 65
    for col in ["school", "student", "normexam", "standlrt", "schav", "vrband", "avslrt"]:
        assert col in df.columns
    # MLwiN coding: the 'high' intake band has the highest reading scores
    means = df.groupby("schav", observed=True)["standlrt"].mean()
    assert means["high"] > means["mid"] > means["low"]


def test_load_returns_fresh_copy():
    a = lh.load_dataset("exam")
    a.loc[a.index[0], "normexam"] = 99.0
    assert lh.load_dataset("exam")["normexam"].iloc[0] != 99.0


def test_unknown_name_suggests():
    with pytest.raises(lh.LemmaError, match=r"Unknown dataset 'ess_hedonsim'.*Did you mean 'ess_hedonism'"):
        lh.load_dataset("ess_hedonsim")
    with pytest.raises(TypeError, match="Dataset names are strings"):
        lh.load_dataset(3)


def test_codebook_lists_every_column():
    book = lh.codebook("exam")
    assert set(lh.load_dataset("exam").columns) <= set(book.index)


# ---- downloads through pooch from a local server ------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1 and yield (folder, base_url)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _QuietHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _point_at(monkeypatch, tmp_path, url, sha=None):
    entry = datasets._REGISTRY["ssls"]
    from dataclasses import replace
    monkeypatch.setitem(datasets._REGISTRY, "ssls", replace(entry, url=url, sha256=sha or entry.sha256))
    monkeypatch.delenv("LEMMA_DATA_DIR", raising=False)
    monkeypatch.setenv("LEMMA_CACHE_DIR", str(tmp_path / "cache"))
    datasets._load_cached.cache_clear()


@needs_mirror
def test_real_download_and_cache(served, tmp_path, monkeypatch):
    root, base = served
    shutil.copy(MIRROR / "ssls_5.1.txt", root / "5.1.txt")
    _point_at(monkeypatch, tmp_path, f"{base}/5.1.txt")
    df = lh.load_dataset("ssls")
    assert df.shape == (33988, 9)
    cached = tmp_path / "cache" / "ssls_5.1.txt"
    assert cached.exists()
    # a truncated cache file is detected by its checksum and fetched again
    cached.write_bytes(cached.read_bytes()[:1000])
    datasets._load_cached.cache_clear()
    assert lh.load_dataset("ssls").shape == (33988, 9)
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == datasets._REGISTRY["ssls"].sha256


def test_failed_download_explains(served, tmp_path, monkeypatch):
    _, base = served
    _point_at(monkeypatch, tmp_path, f"{base}/missing.txt")
    with pytest.raises(lh.LemmaError, match=r"Could not download the ssls data from http://127\.0\.0\.1.*missing\.txt.*LEMMA_DATA_DIR"):
        lh.load_dataset("ssls")


def test_checksum_mismatch_refused(served, tmp_path, monkeypatch):
    root, base = served
    (root / "5.1.txt").write_text("caseid,schoolid\n1,1\n")
    _point_at(monkeypatch, tmp_path, f"{base}/5.1.txt")
    with pytest.raises(lh.LemmaError, match="does not have the expected SHA-256.*refused"):
        lh.load_dataset("ssls")
    assert not (tmp_path / "cache" / "ssls_5.1.txt").exists()


def test_data_dir_with_wrong_file_refused(tmp_path, monkeypatch):
    (tmp_path / "ssls_5.1.txt").write_text("not the file\n")
    monkeypatch.setenv("LEMMA_DATA_DIR", str(tmp_path))
    datasets._load_cached.cache_clear()
    with pytest.raises(lh.LemmaError, match="is not the expected ssls file.*SHA-256"):
        lh.load_dataset("ssls")


@needs_mirror
def test_data_dir_accepts_the_name_the_file_has_at_its_download_address(tmp_path, monkeypatch):
    shutil.copy(MIRROR / "ssls_5.1.txt", tmp_path / "5.1.txt")      # as the pinned address serves it
    monkeypatch.setenv("LEMMA_DATA_DIR", str(tmp_path))
    assert datasets.data_path("ssls") == tmp_path / "5.1.txt"


def test_data_dir_without_the_file_says_where_it_looked_and_for_which_names(served, tmp_path, monkeypatch):
    """LEMMA_DATA_DIR is set but the file is not there, and the download fails: the message names the
    folder and both file names, and does not tell the reader to set LEMMA_DATA_DIR as if it were not set."""
    _, base = served
    _point_at(monkeypatch, tmp_path, f"{base}/missing.txt")
    empty = tmp_path / "shared"
    empty.mkdir()
    monkeypatch.setenv("LEMMA_DATA_DIR", str(empty))
    with pytest.warns(lh.LemmaWarning, match="holds no file named ssls_5.1.txt or missing.txt"):
        with pytest.raises(lh.LemmaError) as err:
            lh.load_dataset("ssls")
    text = str(err.value)
    assert f"LEMMA_DATA_DIR is set to {str(empty)!r}, but that folder holds no file named ssls_5.1.txt or " \
           "missing.txt (the name it has at its download address)" in text
    assert "Could not download the ssls data" in text and "set the environment variable" not in text
    monkeypatch.setenv("LEMMA_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.warns(lh.LemmaWarning), pytest.raises(lh.LemmaError, match="but there is no such folder"):
        lh.load_dataset("ssls")


def test_failed_download_without_data_dir_names_the_files_to_put_there(served, tmp_path, monkeypatch):
    _, base = served
    _point_at(monkeypatch, tmp_path, f"{base}/missing.txt")
    with pytest.raises(lh.LemmaError, match=r"download the file from http://.*missing\.txt, put it in a folder "
                                            r"\(as ssls_5\.1\.txt or missing\.txt\) and set the environment "
                                            r"variable LEMMA_DATA_DIR"):
        lh.load_dataset("ssls")


def test_exam_ships_inside_the_package():
    path = datasets.data_path("exam")
    assert path.parent == Path(lh.__file__).resolve().parent / "data"
    assert (path.parent / "EXAM_NOTICE.md").exists() and (path.parent / "GPL-2.txt").exists()


def test_missing_bundled_file_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "_PACKAGE_DATA", tmp_path)
    with pytest.raises(lh.LemmaError, match=r"exam data should ship with the course package.*"
                                            r"missing.*Reinstall.*pip install \."):
        datasets.data_path("exam")


# ---- local datasets (lh.register_dataset) -------------------------------------------
@pytest.fixture
def local_csv(tmp_path):
    path = tmp_path / "classes.csv"
    path.write_text("pupil,school,score\n1,B,10\n2,A,12\n3,B,9\n4,C,15\n", encoding="utf-8")
    yield path
    datasets._forget_local_datasets()


def test_registered_csv_loads_lists_and_has_a_codebook(local_csv):
    row = lh.register_dataset("classes", local_csv, group="school", description="four pupils",
                              codebook={"score": "test score, 0-20", "school": "the school; level 2"})
    assert row.loc[0, ["name", "level1_units", "groups", "group", "licence"]].tolist() == \
        ["classes", 4, 3, "school", "local file"]
    table = lh.list_datasets()
    assert list(table["name"]) == ["ess_hedonism", "ssls", "exam", "classes"]
    assert table.set_index("name").loc["classes", "description"] == "four pupils"
    df = lh.load_dataset("classes")
    assert df.shape == (4, 3) and list(df["school"].cat.categories) == ["A", "B", "C"]
    book = lh.codebook("classes")
    assert list(book.index) == ["pupil", "school", "score"]
    assert book.loc["score", "description"] == "test score, 0-20" and book.loc["pupil", "description"] == ""
    # a fresh read each time: edits to the file are seen, and changing the copy changes nothing
    df.loc[0, "score"] = 99
    local_csv.write_text(local_csv.read_text() + "5,A,11\n", encoding="utf-8")
    again = lh.load_dataset("classes")
    assert len(again) == 5 and again["score"].iloc[0] == 10
    assert datasets.data_path("classes") == local_csv.resolve()


def test_registered_codebook_from_csv_or_yaml_and_a_reader(local_csv, tmp_path):
    (tmp_path / "book.csv").write_text("variable,description\nscore,\"points, 0-20\"\n", encoding="utf-8")
    lh.register_dataset("c1", local_csv, group="school", codebook=tmp_path / "book.csv")
    assert lh.codebook("c1").loc["score", "description"] == "points, 0-20"
    (tmp_path / "book.yaml").write_text("pupil: pupil number\nscore: points\n", encoding="utf-8")
    lh.register_dataset("c2", local_csv, group="school", codebook=str(tmp_path / "book.yaml"))
    assert lh.codebook("c2")["description"].tolist() == ["pupil number", "", "points"]
    semi = tmp_path / "semi.txt"
    semi.write_text("school;score\nX;1\nY;2\n", encoding="utf-8")
    lh.register_dataset("c3", semi, group="school", reader=lambda p: pd.read_csv(p, sep=";"))
    assert lh.load_dataset("c3")["score"].tolist() == [1, 2]


def test_register_dataset_errors_are_clear(local_csv, tmp_path):
    with pytest.raises(lh.LemmaError, match=r"data file '.*nothere\.csv' of dataset 'x' does not exist"):
        lh.register_dataset("x", tmp_path / "nothere.csv", group="school")
    with pytest.raises(lh.LemmaError, match=r"group column 'schol' is not in .*classes\.csv\. "
                                            r"Did you mean 'school'\? Columns available: pupil, school, score"):
        lh.register_dataset("x", local_csv, group="schol")
    with pytest.raises(lh.LemmaError, match=r"'exam' is the name of a built-in dataset; register your file "
                                            r"under another name"):
        lh.register_dataset("exam", local_csv, group="school")
    with pytest.raises(lh.LemmaError, match=r"codebook of 'x' describes columns that are not in classes\.csv: "
                                            r"scroe"):
        lh.register_dataset("x", local_csv, group="school", codebook={"scroe": "typo"})
    with pytest.raises(lh.LemmaError, match=r"codebook file '.*book\.csv' of dataset 'x' does not exist"):
        lh.register_dataset("x", local_csv, group="school", codebook=tmp_path / "book.csv")
    (tmp_path / "book.txt").write_text("score: points\n", encoding="utf-8")
    with pytest.raises(lh.LemmaError, match=r"must be a \.csv or \.yaml file"):
        lh.register_dataset("x", local_csv, group="school", codebook=tmp_path / "book.txt")
    with pytest.raises(TypeError, match="non-empty string"):
        lh.register_dataset("", local_csv, group="school")
    assert "x" not in set(lh.list_datasets()["name"])       # nothing half-registered
    lh.register_dataset("x", local_csv, group="school")
    local_csv.unlink()
    with pytest.raises(lh.LemmaError, match=r"data file .*classes\.csv of dataset 'x' has gone since it was registered"):
        lh.load_dataset("x")
    with pytest.raises(lh.LemmaError, match=r"Unknown dataset 'y'.*Valid datasets: 'ess_hedonism', 'ssls', 'exam', 'x'"):
        lh.load_dataset("y")


# ---- the final project's data (docs/project/) ----------------------------------------

def test_project_data_hsb_ships_and_loads():
    # mlmRev::Hsb82 exported by data/make_hsb.R; lme4 1.1: lmer(mAch ~ 1 + (1 | school), Hsb82,
    # REML = FALSE): intercept 12.6371, var(school) 8.5535, var(residual) 39.1484, deviance 47115.81
    path = datasets.data_path("hsb")
    assert path.parent == Path(datasets.__file__).resolve().parent / "data"
    assert (path.parent / "HSB_NOTICE.md").exists() and (path.parent / "GPL-2.txt").exists()
    df = lh.load_dataset("hsb")
    assert df.shape == (7185, 9) and df["school"].nunique() == 160
    assert list(df["sector"].cat.categories) == ["public", "catholic"]
    assert set(lh.codebook("hsb").index) == set(df.columns)
    per_school = df.groupby("school", observed=True)[["meanses", "sector"]].nunique()
    assert (per_school == 1).all().all()                    # school-level variables
    assert (df["ses"] - df["meanses"] - df["cses"]).abs().max() < 1e-6
    m = lh.fit("mathach ~ 1 + (1 | school)", data=df)
    assert m.fixed.loc["Intercept", "estimate"] == pytest.approx(12.6371, abs=5e-5)
    assert m.level2_cov.iloc[0, 0] == pytest.approx(8.5535, abs=5e-4)
    assert m.level1_var == pytest.approx(39.1484, abs=5e-4)
    assert m.deviance == pytest.approx(47115.81, abs=5e-3)


def test_project_data_are_listed_only_on_request():
    assert "hsb" not in list(lh.list_datasets()["name"])
    assert list(lh.list_datasets(project=True)["name"])[-1] == "hsb"
    with pytest.raises(lh.LemmaError, match="built-in dataset"):
        lh.register_dataset("hsb", Path(datasets.__file__), group="school")


def test_dataset_names_are_matched_without_case_and_the_project_data_are_not_listed_as_course_data():
    assert lh.load_dataset("SSLS").shape == lh.load_dataset("ssls").shape
    assert lh.load_dataset(" Exam ").shape[0] == 4059
    with pytest.raises(lh.LemmaError) as err:
        lh.load_dataset("sslz")
    message = str(err.value)
    assert "Did you mean 'ssls'?" in message
    assert "Valid datasets: 'ess_hedonism', 'ssls', 'exam' (lh.list_datasets()" in message and "'hsb'" not in message
    assert lh.load_dataset("hsb").shape[0] == 7185          # the final project's data still load
