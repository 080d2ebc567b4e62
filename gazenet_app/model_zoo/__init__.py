"""MXNet/Gluon networks, model cards, weights I/O, the model store and the pose estimator.

Submodules import MXNet on demand; import what you need from them (e.g. `gazenet_app.model_zoo.pose`).
"""

__all__: list = []
