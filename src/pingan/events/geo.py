"""Which grid contains a point: ray casting over the grids' GeoJSON boundaries (Polygon, MultiPolygon),
with a bounding-box test first. The district has a few hundred grids at most, so a pass over them is
fast enough and needs no spatial database."""

from __future__ import annotations

from typing import Any

from pingan.areas.models import Area, Level


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
