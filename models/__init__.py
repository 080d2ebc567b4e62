"""Shipped model files (NAME.json cards beside their weights), installed as gazenet_app.models."""
