"""The read API over published packages: babbage's `/api/3/cubes/...` and the legacy `/api/2/aggregate` and
`/api/2/search`, answered by DuckDB over local copies of the packages' Parquet files."""
