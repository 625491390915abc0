"""Spontaneous activity: fibrillations, positive sharp waves, fasciculations.

Numba kernels (:mod:`.kernels`, :mod:`.features`), classification
(:mod:`.classify`), firing trains (:mod:`.trains`), grading
(:mod:`.grading`) and the whole stage, :func:`detect_spontaneous`.
"""

from motorsign.spontaneous.detect import DetectionResult, detect_spontaneous, release_scratch
from motorsign.spontaneous.params import DetectParams

__all__ = ["DetectionResult", "DetectParams", "detect_spontaneous", "release_scratch"]
