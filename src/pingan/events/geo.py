"""Which grid contains a point: ray casting over the grids' GeoJSON boundaries (Polygon, MultiPolygon),
with a bounding-box test first. The district has a few hundred grids at most, so a pass over them is
fast enough and needs no spatial database."""

from __future__ import annotations

from typing import Any

from pingan.areas.models import Area, Level
from pingan.core.process_cache import ProcessCache


def _in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / ((yj - yi) or 1e-300) + xi:
            inside = not inside
        j = i
    return inside


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    kind = geometry.get("type")
    if kind == "Feature":
        return _polygons(geometry.get("geometry") or {})
    if kind == "Polygon":
        return [geometry.get("coordinates") or []]
    if kind == "MultiPolygon":
        return list(geometry.get("coordinates") or [])
    return []


def contains(geometry: dict[str, Any] | None, lat: float, lon: float) -> bool:
    """The point lies inside an outer ring and outside that polygon's holes."""
    for polygon in _polygons(geometry or {}):
        if not polygon:
            continue
        outer, holes = polygon[0], polygon[1:]
        xs, ys = [p[0] for p in outer], [p[1] for p in outer]
        if not (min(xs) <= lon <= max(xs) and min(ys) <= lat <= max(ys)):
            continue
        if _in_ring(lon, lat, outer) and not any(_in_ring(lon, lat, hole) for hole in holes):
            return True
    return False


def locate_grid(lat: float, lon: float) -> Area | None:
    for grid in Area.objects.filter(level=Level.GRID, active=True, boundary__isnull=False).order_by("code"):
        if contains(grid.boundary, lat, lon):
            return grid
    return None


def _grids_extent() -> tuple[float, float, float, float] | None:
    """(south, north, west, east) of every active grid's boundary; None when no grid has one."""
    south = west = float("inf")
    north = east = float("-inf")
    for boundary in Area.objects.filter(level=Level.GRID, active=True, boundary__isnull=False).values_list(
        "boundary", flat=True
    ):
        for polygon in _polygons(boundary or {}):
            for x, y, *_rest in polygon[0] if polygon else []:
                south, north, west, east = min(south, y), max(north, y), min(west, x), max(east, x)
    return (south, north, west, east) if south <= north else None


# read by every report with coordinates: kept a minute per process, cleared when an area is saved
_EXTENT = ProcessCache(_grids_extent, seconds=60, models=(Area,))
# how far outside the grids a reported point may lie (GPS error, a worker across the boundary road): ~2 km
EXTENT_MARGIN = 0.02


def in_district(lat: float, lon: float) -> bool:
    """Whether the point lies within the district's grids (their bounding box, widened by EXTENT_MARGIN).
    True when no grid has a boundary: nothing to check against."""
    extent = _EXTENT.get()
    if extent is None:
        return True
    south, north, west, east = extent
    m = EXTENT_MARGIN
    return south - m <= lat <= north + m and west - m <= lon <= east + m
