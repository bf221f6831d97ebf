"""An example exercise on the bundled Exam data, used by the documentation and the tests."""
from . import value_exercise


@value_exercise("X.example.vpc", "the VPC", tol=5e-4, needs=("m",),
                hint="divide the level-2 variance by the total variance")
def _vpc(m):
    return float(m.vpc())
