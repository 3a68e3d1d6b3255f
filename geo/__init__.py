"""Geospatial core of the Community Schools Map.

Functions here take GeoDataFrames and return new ones with an explicit CRS.
Nothing in this package imports Flask or folium.
"""

__version__ = "0.1.0"
