"""Speed and memory measurements behind `gazenet bench` (Qt-free; above the pipeline layer).

- `timing`: paired, interleaved timing rounds (warm-up excluded, medians, paired ratios);
- `networks`: the network rows (PyTorch reference Hopenet, gazenet fp32 / fused / int8, the default model);
- `clips`: 640x480 benchmark clips with one or five real faces (from ../shared/data/faces);
- `endtoend`: pipeline FPS (decode -> detect -> crop -> pose -> track -> draw);
- `memory`: peak RSS of `gazenet annotate` and of the app's headless run, in child processes;
- `report`: the machine description, the JSON document and the printed table.
Importing this package loads nothing heavy; torch is imported only by the reference row.
"""

__all__: list = []
