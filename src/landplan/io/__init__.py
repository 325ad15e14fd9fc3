"""Input and output: the only layer (with the CLI) that opens files.

Reading and writing vector layers (GeoPackage, Shapefile with its encodings,
GeoParquet, FileGDB), rasters, per-county target files, rule-profile files,
shipped reference tables, the bundled sample, run manifests, QGIS styles,
CSV/XLSX/figure outputs and the Dask engine's partitions.  May import
:mod:`landplan.core` and :mod:`landplan.survey` (to check a parcel layer's
fields while reading it); every layer above may import it.
"""
