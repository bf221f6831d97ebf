"""An example exercise on the bundled Exam data, used by the documentation and the tests."""
from .. import answers as A
from . import value_exercise

_vpc = value_exercise("X.example.vpc", "the VPC", tol=5e-4, needs=("m",), answer=A.vpc,
                      hint="divide the level-2 variance by the total variance")
