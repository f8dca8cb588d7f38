"""``dp3.common.datapoint``: DP³'s data-point classes, all one ``DataPoint`` here.

DP³ has a pydantic model per attribute kind; streamcore has one slotted dataclass with the
same fields (``etype, eid, attr, src, v, t1, t2, c``), so hooks read data-points unchanged.
``isinstance(dp, DataPointObservationsBase)`` is therefore true for every data-point: ask
the model (``model_spec.attr(etype, attr).t``) for the attribute's kind instead.
"""

from streamcore.model.datapoint import DataPoint

DataPointBase = DataPoint
DataPointPlainBase = DataPoint
DataPointObservationsBase = DataPoint
DataPointTimeseriesBase = DataPoint
DataPointType = DataPoint

__all__ = [
    "DataPointBase",
    "DataPointObservationsBase",
    "DataPointPlainBase",
    "DataPointTimeseriesBase",
    "DataPointType",
]
