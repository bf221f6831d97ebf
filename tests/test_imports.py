"""import lemma_helpers stays light: the heavy libraries load when a name that needs them is first used."""
import subprocess
import sys

HEAVY = ["matplotlib", "scipy.stats", "statsmodels", "ipywidgets", "patsy", "jsonschema"]


def _loaded_after(code: str) -> set:
    probe = (f"import sys\n{code}\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return set(filter(None, out.split(",")))


def test_import_loads_no_heavy_library():
    assert _loaded_after("import lemma_helpers as lh") == set()
    assert _loaded_after("import lemma_helpers as lh\nlh.check('5.1.q1', 0.0921)") == set()   # a graded notebook


def test_a_fit_does_not_load_the_statistics_and_plotting_libraries():
    # p-values come from scipy.special; scipy.stats alone would add half a second to the first fit
    loaded = _loaded_after("import lemma_helpers as lh\nm = lh.fit('normexam ~ 1 + (1 | school)', "
                           "data=lh.load_dataset('exam'))\nrepr(m)")
    assert loaded == {"patsy"}


def test_names_load_their_module_on_first_use():
    assert "matplotlib" in _loaded_after("import lemma_helpers as lh\nlh.plot_caterpillar")
    assert "patsy" in _loaded_after("from lemma_helpers import fit")


def test_every_public_name_resolves_and_is_listed():
    import lemma_helpers as lh

    for name in lh.__all__:
        assert getattr(lh, name) is not None, name
    assert set(lh.__all__) <= set(dir(lh))
    assert callable(lh.quiz)                     # the function, not the submodule of the same name
