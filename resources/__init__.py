"""Icons, desktop entry and notices shipped with the app, installed as gazenet_app.resources."""
