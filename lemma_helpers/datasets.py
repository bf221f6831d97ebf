"""The course's datasets: a registry, downloads with checksums, tidy tables.

Two teaching files are public but not ours to redistribute, so they are
downloaded on first use from pinned addresses, verified by SHA-256 and cached
(pooch). Setting the environment variable ``LEMMA_DATA_DIR`` to a folder that
holds the files makes the loader read them from there instead, with no
network. The Exam data ship inside the package, in ``lemma_helpers/data/``,
beside their licence notice (``EXAM_NOTICE.md``, GPL >= 2). An instructor can
add a local CSV file with :func:`register_dataset`; it is then loaded, listed
and described like the built-in datasets, for the rest of the Python session.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from ._validation import LemmaError, did_you_mean, warn
from .state import session
from .variants import VARIATIONS, normalise_code, variant_frame

__all__ = ["list_datasets", "load_dataset", "codebook", "data_path", "register_dataset"]

ESS_COUNTRIES = {
    1: "Austria", 2: "Belgium", 3: "Switzerland", 4: "Czech Republic", 5: "Germany",
    6: "Denmark", 7: "Spain", 8: "Finland", 9: "France", 10: "United Kingdom",
    11: "Greece", 12: "Hungary", 13: "Ireland", 14: "Israel", 17: "Netherlands",
    18: "Norway", 19: "Poland", 20: "Portugal", 21: "Sweden", 22: "Slovenia",
}
INCOME_BANDS = [
    "<150", "150-300", "300-500", "500-1000", "1000-1500", "1500-2000",
    "2000-2500", "2500-3000", "3000-5000", "5000-7500", "7500-10000", "10000+",
]
SCLASS_LABELS = {1: "managerial", 2: "intermediate", 3: "working", 4: "unclassified"}

_PACKAGE_DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class _Dataset:
    name: str
    description: str
    level1_units: int
    groups: int
    group: str
    source: str
    licence: str
    filename: str
    url: str | None
    sha256: str
    reader: Callable[[Path], pd.DataFrame]
    variables: dict
    local_path: Path | None = None      # set for datasets added with register_dataset


def _read_ess(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, sep=r"\s+")
    expected = ["country", "IND", "HEDSCORE", "AGE", "FEMALE", "INCOME", "EDUYRS"]
    if list(raw.columns) != expected:
        raise LemmaError(f"{path} does not have the ESS hedonism header {expected}; is it the right file?")
    age46 = raw["AGE"].where(raw["AGE"] != 999).astype(float)
    income = raw["INCOME"].where(raw["INCOME"] != 99).astype(float)
    names = [ESS_COUNTRIES[c] for c in sorted(ESS_COUNTRIES)]
    df = pd.DataFrame({
        "country": pd.Categorical(raw["country"].map(ESS_COUNTRIES), categories=sorted(names)),
        "respondent": raw["IND"].astype("int64"),
        "hedonism": raw["HEDSCORE"].astype(float),
        "age": age46 + 46,
        "female": raw["FEMALE"].where(raw["FEMALE"] != 9).astype(float),
        "income": income,
        "income_band": pd.Categorical.from_codes(
            income.fillna(0).astype(int) - 1, categories=INCOME_BANDS, ordered=True
        ),
        "eduyrs": raw["EDUYRS"].where(raw["EDUYRS"] != 99).astype(float),
    })
    df["income_mean"] = df.groupby("country", observed=True)["income"].transform("mean")
    return df


def _read_ssls(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    expected = ["caseid", "schoolid", "score", "cohort90", "female", "sclass",
                "schtype", "schurban", "schdenom"]
    if list(raw.columns) != expected:
        raise LemmaError(f"{path} does not have the school leavers header {expected}; is it the right file?")
    df = raw.astype({c: "int64" for c in expected})
    df["schoolid"] = pd.Categorical(df["schoolid"], categories=sorted(df["schoolid"].unique()))
    df["score"] = df["score"].astype(float)
    df["sclass"] = pd.Categorical(df["sclass"].map(SCLASS_LABELS), categories=list(SCLASS_LABELS.values()))
    return df


def _read_exam(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["school"] = pd.Categorical(df["school"], categories=sorted(df["school"].unique()))
    for col, cats in (("gender", ["boy", "girl"]), ("schgend", ["mixed", "boys", "girls"]),
                      ("type", ["mixed", "single"])):
        if col in df:
            df[col] = pd.Categorical(df[col], categories=cats)
    for col, cats in (("schav", ["low", "mid", "high"]), ("vrband", ["vb1", "vb2", "vb3"])):
        if col in df:
            df[col] = pd.Categorical(df[col], categories=cats, ordered=True)
    return df


def _read_hsb(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    df["school"] = pd.Categorical(df["school"], categories=sorted(df["school"].unique()))
    df["sector"] = pd.Categorical(df["sector"], categories=["public", "catholic"])
    return df


_ESS_VARS = {
    "country": "country (20 categories, names from the ESS code table); the level-2 unit",
    "respondent": "respondent id (1-36527)",
    "hedonism": "hedonism score: mean of the two hedonism value items minus the person's mean over all value items; higher = more hedonistic",
    "age": "age in years (the source file stores age - 46; 999 = missing -> NA)",
    "female": "1 = female, 0 = male (9 = missing -> NA)",
    "income": "monthly household income band 1-12 as a number (99 = missing -> NA)",
    "income_band": "the same band as an ordered category labelled in EUR per month",
    "eduyrs": "years of full-time education (99 = missing -> NA)",
    "income_mean": "country mean of income over respondents with a known income (level-2 variable)",
}
_SSLS_VARS = {
    "caseid": "student id within the file",
    "schoolid": "school (508 categories); the level-2 unit",
    "score": "attainment score at age 16, 0-75",
    "cohort90": "year of the cohort minus 1990 (-6, -4, -2, 0, 6, 8)",
    "female": "1 = female, 0 = male",
    "sclass": "parental social class: managerial (1), intermediate (2), working (3), unclassified (4)",
    "schtype": "school type: 1 = independent, 0 = state-funded",
    "schurban": "1 = urban school, 0 = town or rural",
    "schdenom": "1 = Roman Catholic school, 0 = non-denominational",
}
_EXAM_VARS = {
    "school": "school (65 categories); the level-2 unit",
    "student": "student id within school",
    "normexam": "exam score at 16 (GCSE), normalised",
    "standlrt": "London Reading Test score at 11, standardised",
    "gender": "boy or girl",
    "female": "1 = girl, 0 = boy",
    "schgend": "school gender: mixed, boys, girls",
    "avslrt": "school mean of standlrt",
    "schav": "school average intake band: low, mid, high (MLwiN coding)",
    "vrband": "student verbal reasoning band at intake: vb1 (top 25%), vb2 (middle 50%), vb3 (bottom 25%)",
    "type": "school type: mixed or single sex (the same information as schgend)",
}

_REGISTRY = {
    "ess_hedonism": _Dataset(
        name="ess_hedonism",
        description="European Social Survey 2002: hedonism of respondents in 20 countries",
        level1_units=36527, groups=20, group="country",
        source="ESS Round 1 (2002), extract from Bartholomew et al., Analysis of Multivariate Social Science Data, 3rd ed., ch. 13",
        licence="CC BY-NC-SA 4.0 (cite the ESS; non-commercial)",
        filename="ess_hedonism_2002.txt",
        url="https://raw.githubusercontent.com/AMSSD3ed/data-code/1b75240eb11e10649a4b58d9dc4a603cdc3ed595/Datasets/Chapter13/hedonism.txt",
        sha256="7f47673a23066847602d1a86e9c005f4ab34840dec306ac0c1afee0ba3540706",
        reader=_read_ess, variables=_ESS_VARS,
    ),
    "ssls": _Dataset(
        name="ssls",
        description="Scottish School Leavers Survey: attainment of students in 508 schools",
        level1_units=33988, groups=508, group="schoolid",
        source="Centre for Multilevel Modelling, LEMMA Module 5 practical file",
        licence="teaching use; cite the Centre for Multilevel Modelling (LEMMA)",
        filename="ssls_5.1.txt",
        url="https://raw.githubusercontent.com/philmikejones/multi_level_modelling/f7eb94bd0a5ee8b64282328bd3785fcdb69ed606/inst/extdata/5.1.txt",
        sha256="0007dd907d79de69aa93f131d16c289d8ca9c5350ded068fd0e4e92494b6fe45",
        reader=_read_ssls, variables=_SSLS_VARS,
    ),
    "exam": _Dataset(
        name="exam",
        description="Inner London exam scores of pupils in 65 schools (MLwiN tutorial data)",
        level1_units=4059, groups=65, group="school",
        source="Goldstein et al. (1993), via the R package mlmRev (bundled)",
        licence="GPL (>= 2), as distributed in mlmRev",
        filename="exam.csv", url=None, sha256="",
        reader=_read_exam, variables=_EXAM_VARS,
    ),
}

_HSB_VARS = {
    "school": "school (160 categories); the level-2 unit",
    "student": "student number within school (the order of the source file)",
    "mathach": "mathematics achievement score (about -3 to 25)",
    "ses": "socio-economic status of the student's family, a standardised scale",
    "female": "1 = girl, 0 = boy",
    "minority": "1 = student from an ethnic minority, 0 = not",
    "sector": "school sector: public or catholic",
    "meanses": "school mean of ses, as stored in the source data (level-2 variable)",
    "cses": "ses centred on the school mean: ses - meanses",
}

# The data of the final project (docs/project/). They load like the others (lh.load_dataset("hsb"))
# but are listed by lh.list_datasets() only with project=True: the course's list stays the data
# that the notebooks use, and the project's data are new to the learner.
_PROJECT = {
    "hsb": _Dataset(
        name="hsb",
        description="High School and Beyond (1982): mathematics achievement of students in 160 US high schools",
        level1_units=7185, groups=160, group="school",
        source="Raudenbush and Bryk (2002), Hierarchical Linear Models, via the R package mlmRev (bundled)",
        licence="GPL (>= 2), as distributed in mlmRev",
        filename="hsb.csv", url=None, sha256="",
        reader=_read_hsb, variables=_HSB_VARS,
    ),
}


_LOCAL: dict = {}    # datasets added with register_dataset, in the order added


def _get(name: str) -> _Dataset:
    if not isinstance(name, str):
        raise TypeError(f"Dataset names are strings, got {type(name).__name__}. Try lh.list_datasets().")
    every = {**_PROJECT, **_LOCAL, **_REGISTRY}
    if name in every:
        return every[name]
    folded = {key.casefold(): d for key, d in reversed(list(every.items()))}
    if name.strip().casefold() in folded:              # 'SSLS' is 'ssls'
        return folded[name.strip().casefold()]
    public = [*_REGISTRY, *_LOCAL]                     # the project's data load, but are not listed here
    raise LemmaError(f"Unknown dataset {name!r}.{did_you_mean(name.strip().casefold(), [*public, *_PROJECT])} "
                     f"Valid datasets: {', '.join(map(repr, public))} (lh.list_datasets() describes them).")


def _read_codebook(codebook, name: str) -> dict:
    """A codebook given as a dict, or as a CSV or YAML file, as ``{column: description}``."""
    if codebook is None:
        return {}
    if isinstance(codebook, dict):
        entries = codebook
    elif isinstance(codebook, (str, os.PathLike)):
        path = Path(codebook).expanduser()
        if not path.is_file():
            raise LemmaError(f"The codebook file {str(path)!r} of dataset {name!r} does not exist.")
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            import yaml

            try:
                entries = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as err:
                raise LemmaError(f"The codebook file {path} is not valid YAML: {err}") from None
            if not isinstance(entries, dict):
                raise LemmaError(f"The codebook file {path} must map each column name to its description "
                                 "(lines like `score: exam score, 0-100`).")
        elif suffix == ".csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
            if {"variable", "description"} <= set(table.columns):
                entries = dict(zip(table["variable"], table["description"]))
            elif table.shape[1] == 2:
                entries = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
            else:
                raise LemmaError(f"The codebook file {path} needs the columns `variable` and `description` "
                                 f"(it has {', '.join(map(str, table.columns))}).")
        else:
            raise LemmaError(f"The codebook file {path} must be a .csv or .yaml file (or pass a dict).")
    else:
        raise TypeError("codebook must be a dict {column: description} or the path of a CSV or YAML file, "
                        f"got {type(codebook).__name__}.")
    return {str(k): "" if v is None else str(v) for k, v in entries.items()}


def _read_local(d: _Dataset) -> pd.DataFrame:
    """Read a registered local file and check it still has its group column."""
    try:
        df = d.reader(d.local_path)
    except LemmaError:
        raise
    except Exception as exc:  # a CSV parser or a user reader can fail in many ways
        raise LemmaError(f"Could not read the dataset {d.name!r} from {d.local_path} "
                         f"({type(exc).__name__}: {exc}).") from None
    if not isinstance(df, pd.DataFrame):
        raise LemmaError(f"The reader of dataset {d.name!r} returned a {type(df).__name__}, not a DataFrame.")
    if d.group not in df.columns:
        raise LemmaError(f"The group column {d.group!r} is not in {d.local_path}."
                         f"{did_you_mean(d.group, df.columns)} Columns available: "
                         f"{', '.join(map(str, df.columns))}.")
    if not isinstance(df[d.group].dtype, pd.CategoricalDtype):
        df[d.group] = pd.Categorical(df[d.group], categories=sorted(df[d.group].dropna().unique()))
    return df


def register_dataset(name: str, path, *, group: str, description: str = "", codebook=None,
                     reader: Callable[[Path], pd.DataFrame] | None = None) -> pd.DataFrame:
    """Add a local data file to the course's datasets, for this Python session.

    After this, :func:`load_dataset`, :func:`codebook` and
    :func:`list_datasets` treat ``name`` like a built-in dataset. The file is
    read again at each :func:`load_dataset`, so edits to it are picked up.
    Registering the same name again replaces the earlier registration.

    Parameters
    ----------
    name : str
        The name to load it by; not one of the built-in names.
    path : str or Path
        A CSV file (or any file that ``reader`` can read).
    group : str
        The column of the level-2 units (schools, countries, ...). It becomes
        a categorical with its values in sorted order, as in the built-in
        datasets.
    description : str, optional
        One line about the data, shown by :func:`list_datasets`.
    codebook : dict or str or Path, optional
        What each column means: a dict ``{column: description}``, or a CSV
        file with the columns ``variable`` and ``description``, or a YAML file
        mapping each column to its description. Columns it leaves out are
        listed by :func:`codebook` with an empty description.
    reader : callable, optional
        A function taking the path and returning a DataFrame; default
        ``pandas.read_csv``.

    Returns
    -------
    DataFrame
        The dataset's row of :func:`list_datasets`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import lemma_helpers as lh
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "classes.csv"
    >>> _ = csv.write_text("school,score\\nA,1\\nA,3\\nB,2\\n", encoding="utf-8")
    >>> lh.register_dataset("classes", csv, group="school", codebook={"score": "test score"})[
    ...     ["name", "level1_units", "groups"]]
          name  level1_units  groups
    0  classes             3       2
    >>> lh.load_dataset("classes")["school"].cat.categories.tolist()
    ['A', 'B']
    >>> lh.codebook("classes").loc["score", "description"]
    'test score'
    >>> _forget_local_datasets()
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError("name must be a non-empty string, e.g. 'my_schools'.")
    if name in _REGISTRY or name in _PROJECT:
        raise LemmaError(f"{name!r} is the name of a built-in dataset; register your file under another "
                         f"name (built-in names: {', '.join(_REGISTRY)}).")
    if not isinstance(group, str):
        raise TypeError(f"group must be the name of a column (a string), got {type(group).__name__}.")
    if reader is not None and not callable(reader):
        raise TypeError("reader must be a function that takes a path and returns a DataFrame.")
    file = Path(path).expanduser()
    if not file.is_file():
        raise LemmaError(f"The data file {str(file)!r} of dataset {name!r} does not exist "
                         f"(looked in {file.resolve().parent}).")
    file = file.resolve()
    variables = _read_codebook(codebook, name)
    d = _Dataset(name=name, description=str(description), level1_units=0, groups=0, group=group,
                 source=str(file), licence="local file", filename=file.name, url=None, sha256="",
                 reader=reader or pd.read_csv, variables=variables, local_path=file)
    df = _read_local(d)
    unknown = [v for v in variables if v not in df.columns]
    if unknown:
        raise LemmaError(f"The codebook of {name!r} describes columns that are not in {file.name}: "
                         f"{', '.join(unknown)}. Columns available: {', '.join(map(str, df.columns))}.")
    full = {str(c): variables.get(str(c), "") for c in df.columns}
    d = dataclasses.replace(d, level1_units=int(len(df)), groups=int(df[group].nunique()), variables=full)
    _LOCAL[name] = d
    return list_datasets().query("name == @name").reset_index(drop=True)


def _forget_local_datasets() -> None:
    """Drop every registered local dataset (for tests)."""
    _LOCAL.clear()


def list_datasets(*, project: bool = False) -> pd.DataFrame:
    """List the course's datasets, then any added with :func:`register_dataset`.

    ``project=True`` adds, at the end, the data of the final project
    (``docs/project/``), which the notebooks do not use.

    Returns
    -------
    DataFrame
        One row per dataset with columns ``name``, ``description``,
        ``level1_units``, ``groups``, ``group`` (the grouping column),
        ``source`` and ``licence`` (for a registered file: its path and
        ``'local file'``).

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> lh.list_datasets()[["name", "level1_units", "groups"]]
               name  level1_units  groups
    0  ess_hedonism         36527      20
    1          ssls         33988     508
    2          exam          4059      65
    """
    cols = ["name", "description", "level1_units", "groups", "group", "source", "licence"]
    rows = [*_REGISTRY.values(), *_LOCAL.values(), *(_PROJECT.values() if project else ())]
    return pd.DataFrame([{c: getattr(d, c) for c in cols} for d in rows], columns=cols)


def codebook(name: str) -> pd.DataFrame:
    """Describe each column of a dataset: what it measures and how it is coded.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> lh.codebook("exam").loc["standlrt", "description"]
    'London Reading Test score at 11, standardised'
    """
    d = _get(name)
    return pd.DataFrame({"description": pd.Series(d.variables)}).rename_axis("variable")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cache_dir() -> Path:
    import pooch

    return Path(os.environ.get("LEMMA_CACHE_DIR") or pooch.os_cache("lemma-course"))


def data_path(name: str) -> Path:
    """Return the local path of a dataset's file, downloading it if needed.

    The Exam data are read from the package itself. For the other datasets
    the file is looked for, in order, in ``$LEMMA_DATA_DIR`` (under the
    course's name, ``ess_hedonism_2002.txt`` or ``ssls_5.1.txt``, or under the
    name it has at its download address, ``hedonism.txt`` or ``5.1.txt``) and
    then in the download cache (``$LEMMA_CACHE_DIR`` or the user cache
    folder); when it is not there it is downloaded from the pinned address
    and its SHA-256 is checked (with a warning when ``$LEMMA_DATA_DIR`` is set
    but holds no such file). A cached file that does not match (a download
    cut short, say) is fetched again.
    """
    d = _get(name)
    name = d.name
    if d.local_path is not None:
        if not d.local_path.is_file():
            raise LemmaError(f"The data file {d.local_path} of dataset {name!r} has gone since it was "
                             "registered; put it back or register it again.")
        return d.local_path
    if d.url is None:
        bundled = _PACKAGE_DATA / d.filename
        if bundled.exists():
            return bundled
        raise LemmaError(
            f"The {name} data should ship with the course package as {bundled}, but that "
            "file is missing, so this installation is incomplete. Reinstall the package "
            "(in the course folder: make lab, or pip install .); from the repository you "
            "can also regenerate the file with Rscript data/make_exam.R."
        )
    env_dir = os.environ.get("LEMMA_DATA_DIR")
    if env_dir:
        for fname in _file_names(d):
            local = Path(env_dir) / fname
            if local.is_file():
                digest = _sha256(local)
                if digest != d.sha256:
                    raise LemmaError(
                        f"{local} is not the expected {name} file: its SHA-256 is {digest}, "
                        f"expected {d.sha256}. The file may be damaged or a different version. "
                        "Replace it with a fresh copy, or unset LEMMA_DATA_DIR to download it."
                    )
                return local
        cached = _cache_dir() / d.filename
        if not (cached.is_file() and _sha256(cached) == d.sha256):
            warn(f"{_not_in_folder(d, env_dir)}, so the {name} data are downloaded instead.", stacklevel=4)
    return _download(d, env_dir)


def _file_names(d: _Dataset) -> list:
    """The names under which a dataset's file is found in LEMMA_DATA_DIR: the course's name and the
    name the file has at its download address (``hedonism.txt``, ``5.1.txt``), if that differs."""
    names = [d.filename]
    if d.url and d.url.rsplit("/", 1)[-1] != d.filename:
        names.append(d.url.rsplit("/", 1)[-1])
    return names


def _not_in_folder(d: _Dataset, folder: str) -> str:
    """'LEMMA_DATA_DIR is set to ..., but ...': where the loader looked and the names it looked for."""
    names = _file_names(d)
    wanted = " or ".join(names) + (" (the name it has at its download address)" if len(names) > 1 else "")
    if not Path(folder).is_dir():
        return f"LEMMA_DATA_DIR is set to {folder!r}, but there is no such folder"
    return f"LEMMA_DATA_DIR is set to {folder!r}, but that folder holds no file named {wanted}"


def _download(d: _Dataset, looked_in: str | None = None) -> Path:
    import pooch

    names = " or ".join(_file_names(d))
    if looked_in:
        advice = (f"It tried to download them because {_not_in_folder(d, looked_in)}. Put the file in that "
                  f"folder as {names}, or set LEMMA_DATA_DIR to the folder that holds it.")
    else:
        advice = ("Check your internet connection and try again. To work offline, download the file from "
                  f"{d.url}, put it in a folder (as {names}) and set the environment variable LEMMA_DATA_DIR "
                  "to that folder before starting Python.")
    try:
        return Path(pooch.retrieve(
            url=d.url, known_hash=f"sha256:{d.sha256}", fname=d.filename,
            path=_cache_dir(), progressbar=False,
        ))
    except ValueError as exc:
        if "hash" in str(exc).lower():
            raise LemmaError(
                f"The file downloaded from {d.url} does not have the expected SHA-256 "
                f"({d.sha256}), so it was refused and not used. The address may now serve "
                "different content. Download the file yourself from a trusted copy, put it "
                f"in a folder as {d.filename} and set LEMMA_DATA_DIR to that folder."
            ) from None
        raise
    except Exception as exc:  # network faults come as many types (requests, OSError, ...)
        reason = f"{type(exc).__name__}: {exc}"
        raise LemmaError(f"Could not download the {d.name} data from {d.url} ({reason}). {advice}") from None


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, path: str) -> pd.DataFrame:
    return _get(name).reader(Path(path))


def load_dataset(name: str, *, variant: str | None = None, quiet: bool = False) -> pd.DataFrame:
    """Load one of the course's datasets as a tidy DataFrame.

    Parameters
    ----------
    name : str
        One of ``"ess_hedonism"``, ``"ssls"`` or ``"exam"``, or a name given
        to :func:`register_dataset` (see :func:`list_datasets`;
        :func:`codebook` describes the columns).
    variant : str, optional
        A variant code from your instructor (``'ABCD-EFGH'``): the dataset
        as varied for you: a subset of its groups chosen by the code (13 to 17
        of the 20 ESS countries, 250 to 350 of the 508 schools, 40 to 55 of
        the 65 Exam schools; every row of a kept group), each kept group and
        each row moved by a small random amount of its own, and the response
        on a scale of its own (docs/VARIANTS.md in the course's repository). After ``lh.start_assignment(name, code=...)`` the
        assignment's code is used without asking (``lh.session()`` shows it).
    quiet : bool, default False
        Do not print the line that says a variant was loaded.

    Returns
    -------
    DataFrame
        A fresh copy each call: groups are categoricals with readable names,
        missing-value codes are NA, ordered bands are ordered categoricals.

    Examples
    --------
    >>> import lemma_helpers as lh
    >>> exam = lh.load_dataset("exam")
    >>> exam.shape[0], exam["school"].nunique()
    (4059, 65)
    """
    d = _get(name)
    name = d.name                 # names are matched without regard to case
    path = data_path(name)
    if d.local_path is not None:
        return _read_local(d)
    df = _load_cached(name, str(path)).copy()
    if variant is None:
        variant = session().code           # the code given to lh.start_assignment, if any
    if variant is not None and name in VARIATIONS:
        full = df[d.group].nunique()
        df = variant_frame(name, df, variant, d.group)
        if not quiet:
            v = VARIATIONS[name]
            print(f"Loaded your variant {normalise_code(variant)} of {name}: {df[d.group].nunique()} of the {full} "
                  f"{v.units}, {len(df):,} rows, {v.response} with its own shifts, noise and scale.")
    return df

