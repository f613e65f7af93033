"""Tests of the web faces: console, API, widget, insights, metrics, security headers."""
