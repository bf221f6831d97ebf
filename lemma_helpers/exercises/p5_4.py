"""Exercises of practical P5.4 (school characteristics: contextual and compositional effects)."""
from . import model_exercise, value_exercise

_REF = {"sclass": "working"}
_SLOPE = {"response": "score", "random": ["cohort90"], "group": "schoolid", "reference": _REF}

_m_sch = model_exercise("P5.4.m_sch", fixed=["cohort90", "female", "sclass", "schtype", "schurban", "schdenom"], **_SLOPE)
_m_x = model_exercise("P5.4.m_x", fixed=["cohort90", "schtype", "cohort90:schtype", "female", "sclass", "schurban"],
               **_SLOPE)
_m_share = model_exercise("P5.4.m_share", fixed=["cohort90", "female", "sclass", "schtype", "schurban", "share1"], **_SLOPE)
_m_int = model_exercise("P5.4.m_int", fixed=["cohort90", "female", "sclass", "schtype", "schurban", "share1",
                                    "cohort90:share1"], **_SLOPE)


@value_exercise("P5.4.share1", "share1", tol=1e-9, needs=("data",),
                hint="one value per row: (df['sclass'] == 'managerial') grouped by df['schoolid'] (observed=True), "
                     "then .transform('mean'), the proportion over all the students of the school")
def _share1(data):
    managerial = data["sclass"].eq("managerial").astype(float)
    return managerial.groupby(data["schoolid"], observed=True).transform("mean").to_numpy(dtype=float)
