"""gazenet: keypoint-free head-pose estimation (Hopenet in MXNet/Gluon) with a desktop app.

Importing the package loads no MXNet, OpenCV or Qt; submodules do that on demand.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
