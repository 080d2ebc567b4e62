"""Qt-free, MXNet-free building blocks: types, geometry, crops, drawing, sources and writers."""
