"""racepilot gate detector: data, network, Gate Decorator pruning and ONNX export (see models/README.md)."""
