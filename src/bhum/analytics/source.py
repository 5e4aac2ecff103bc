"""ClaimsSource: the claims input tables opened on DuckDB (default) or PySpark, validated and typed.

The rules only ever see ``source.table(name)``, an Ibis table with the contract's columns and types,
so the same rule code runs on either engine. Parquet files are read in place (DuckDB scans only the
columns and row groups a query needs); every table is checked set-based before any rule runs and the
first bad row is reported as an InputError naming the file, the row and the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv

from bhum.analytics.schema import CONTRACTS, Column, Kind, TableContract
from bhum.domain.errors import InputError

ROW = "_row"  # 1-based row in the file (the CSV line number, header being line 1), when known
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INTEGER = r"^-?[0-9]+$"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_KIND_WORD = {Kind.DATE: "date (expected YYYY-MM-DD)", Kind.INTEGER: "integer", Kind.NUMBER: "number"}
_IBIS_TYPE = {Kind.STRING: "string", Kind.DATE: "date", Kind.INTEGER: "int64", Kind.NUMBER: "float64"}
# DuckDB's own memory cap; the Arrow tables the rules cache live outside it (docs/analytics.md).
DEFAULT_MEMORY_LIMIT = "4GB"

_Locate = Callable[[], ir.Table]


@dataclass(frozen=True, slots=True)
class _Check:
    column: str
    problem: str  # how the message reads, with {value} for the raw value
    bad: ir.BooleanValue  # true on a bad row (used only to find the first one)
    screen: ir.Scalar  # a cheap aggregate over the whole table ...
    clean: Callable[[Any], bool]  # ... whose value proves no row is bad
    alone: bool = False  # screened in its own query (DuckDB runs several DISTINCT aggregates slowly)


class ClaimsSource:
    """The validated, typed claims tables on one engine. Build it with a ``from_*`` constructor."""

    def __init__(self, con: Any, tables: Mapping[str, ir.Table], backend: str) -> None:
        self.con = con
        self.backend = backend  # "duckdb" | "pyspark" | another Ibis backend name
        self._tables = dict(tables)

    def table(self, name: str) -> ir.Table:
        return self._tables[name]

    # -- constructors -------------------------------------------------------------------------------

    @classmethod
    def from_files(
        cls,
        location: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]],
        *,
        spark: Any | None = None,
        materialize: bool = False,
        threads: int | None = None,
        memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    ) -> ClaimsSource:
        """Open ``<dir>/<table>.parquet`` (or a Parquet directory, or ``.csv``) files, or an explicit
        {table: path} mapping.

        With ``spark`` (a SparkSession) the tables are opened on PySpark, otherwise on an in-process
        DuckDB (``threads`` defaults to every core; ``memory_limit`` caps DuckDB's own memory).
        ``materialize`` copies the typed tables into DuckDB first; it rarely pays, because the rule
        context caches the small behavioral-health subset the rules read (bhum.analytics.rules).
        """
        paths = _locate(location)
        if spark is not None:
            con = ibis.pyspark.connect(spark)
            backend = "pyspark"
        else:
            config: dict[str, Any] = {"preserve_insertion_order": False}
            if threads is not None:
                config["threads"] = threads
            if memory_limit is not None:
                config["memory_limit"] = memory_limit
            con = ibis.duckdb.connect(**config)
            con.raw_sql("SET enable_progress_bar = false")
            backend = "duckdb"
        tables: dict[str, ir.Table] = {}
        for name, contract in CONTRACTS.items():
            path = paths.get(name)
            if path is None:
                if not contract.optional:
                    raise InputError(f"the {name} table is missing", source=str(location), field=name)
                tables[name] = _empty(con, backend, contract, spark)
                continue
            raw, locate = _read(con, name, path, spark, contract)
            tables[name] = _validated(raw, contract, source=str(path), locate=locate)
        return cls._finish(con, backend, tables, materialize and spark is None)

    @classmethod
    def from_ibis(
        cls, con: Any, names: Mapping[str, str] | None = None, *, materialize: bool = False
    ) -> ClaimsSource:
        """Use tables already in a database reachable through an Ibis connection (DuckDB, PostgreSQL,
        PySpark ...); ``names`` maps a contract table to the database table name."""
        names = dict(names or {})
        backend = str(con.name)
        existing = _table_names(con)
        tables: dict[str, ir.Table] = {}
        for name, contract in CONTRACTS.items():
            db_name = names.get(name, name)
            if db_name not in existing:
                if not contract.optional:
                    raise InputError(f"the database has no table {db_name!r}", source=backend, field=name)
                tables[name] = _empty(con, backend, contract, None)
                continue
            tables[name] = _validated(con.table(db_name), contract, source=f"{backend} table {db_name}")
        return cls._finish(con, backend, tables, materialize and backend == "duckdb")

    @classmethod
    def from_duckdb(
        cls, database: str | os.PathLike[str], names: Mapping[str, str] | None = None
    ) -> ClaimsSource:
        """Open the contract tables inside an existing DuckDB database file (read-only)."""
        con = ibis.duckdb.connect(str(database), read_only=True)
        return cls.from_ibis(con, names)

    @classmethod
    def _finish(cls, con: Any, backend: str, tables: dict[str, ir.Table], materialize: bool) -> ClaimsSource:
        if materialize:
            for name, expr in list(tables.items()):
                sql = con.compile(expr)
                con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "bhum_{name}" AS {sql}')
                tables[name] = con.table(f"bhum_{name}")
        return cls(con, tables, backend)


def _table_names(con: Any) -> set[str]:
    """The tables (and views) a connection can read. On DuckDB they are read from the catalog directly:
    Ibis 12's ``list_tables`` calls a DuckDB result method that DuckDB 2.0 removed."""
    if str(con.name) == "duckdb":
        rows = con.con.sql("SELECT table_name FROM information_schema.tables").fetchall()
        return {str(name) for (name,) in rows}
    return set(con.list_tables())


# -- reading ----------------------------------------------------------------------------------------


def _locate(location: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]]) -> dict[str, Path]:
    if isinstance(location, Mapping):
        return {name: Path(p) for name, p in location.items()}
    folder = Path(location)
    if not folder.is_dir():
        raise InputError("the claims input directory does not exist", source=str(folder))
    found: dict[str, Path] = {}
    for name in CONTRACTS:
        for candidate in (folder / f"{name}.parquet", folder / name, folder / f"{name}.csv"):
            if candidate.exists():
                found[name] = candidate
                break
    return found


def _read(
    con: Any, name: str, path: Path, spark: Any | None, contract: TableContract
) -> tuple[ir.Table, _Locate | None]:
    """The raw table, and how to re-open it with file row numbers when a bad row must be found."""
    if not path.exists():
        raise InputError("the file does not exist", source=str(path), field=name)
    view = f"raw_{name}"
    if path.suffix.lower() == ".csv":
        # Every value is read as text so a bad one is reported, not silently turned into null.
        arrow = _read_csv_as_text(path)
        if spark is not None:
            spark.createDataFrame(arrow).createOrReplaceTempView(view)
            return con.table(view), None
        con.con.register(view, arrow)
        return con.table(view), None
    if spark is not None:
        spark.read.parquet(str(path)).createOrReplaceTempView(view)
        return con.table(view), None
    pattern = str(path / "*.parquet") if path.is_dir() else str(path)
    # Only the contract's columns: DuckDB then never decodes the rest of a wide claims file.
    table = con.read_parquet(pattern, table_name=view)
    wanted = [c.name for c in contract.columns if c.name in table.columns]
    table = table.select(*wanted)

    def with_rows() -> ir.Table:
        numbered = con.read_parquet(pattern, table_name=f"{view}_rows", file_row_number=True)
        return numbered.select(*wanted, **{ROW: numbered.file_row_number + 1})

    return table, with_rows


def _read_csv_as_text(path: Path) -> pa.Table:
    try:
        with path.open("rb") as handle:
            header = handle.readline().decode("utf-8").strip().split(",")
        arrow = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={c.strip('"'): pa.string() for c in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(f"malformed CSV: {exc}", source=str(path)) from exc
    return arrow.append_column(ROW, pa.array(range(2, arrow.num_rows + 2), pa.int64()))


def _empty(con: Any, backend: str, contract: TableContract, spark: Any | None) -> ir.Table:
    schema = pa.schema([(c.name, _arrow_type(c.kind)) for c in contract.columns])
    empty = schema.empty_table()
    view = f"empty_{contract.name}"
    if spark is not None:
        spark.createDataFrame(empty.to_pandas(), schema=_spark_ddl(contract)).createOrReplaceTempView(view)
    else:
        con.con.register(view, empty)
    return con.table(view)


def _arrow_type(kind: Kind) -> pa.DataType:
    return {
        Kind.STRING: pa.string(),
        Kind.DATE: pa.date32(),
        Kind.INTEGER: pa.int64(),
        Kind.NUMBER: pa.float64(),
    }[kind]


def _spark_ddl(contract: TableContract) -> str:
    spark_type = {Kind.STRING: "string", Kind.DATE: "date", Kind.INTEGER: "bigint", Kind.NUMBER: "double"}
    return ", ".join(f"{c.name} {spark_type[c.kind]}" for c in contract.columns)


# -- validation -------------------------------------------------------------------------------------


def _validated(
    raw: ir.Table, contract: TableContract, *, source: str, locate: _Locate | None = None
) -> ir.Table:
    """Check every row, set-based; raise on the first bad one; return the typed table.

    One aggregate query screens the whole table: codes and closed vocabularies are checked on the
    column's distinct values (a few dozen, whatever the row count), required values by counting
    blanks, text values (CSV) by counting the rows that do not parse. Only when a screen finds a
    problem is the table searched again for the first bad row (``locate`` re-opens a file with its
    row numbers), so clean typed Parquet costs one pass over the code columns.
    """
    present = set(raw.columns)
    for column in contract.columns:
        if column.required and column.name not in present:
            raise InputError(f"required column {column.name!r} is missing", source=source, field=column.name)
    typed, checks = _checks(raw, contract)
    if checks:
        values: dict[int, Any] = {}
        batched = {f"_s{i}": c.screen for i, c in enumerate(checks) if not c.alone}
        if batched:
            row = raw.aggregate(**batched).to_pyarrow().to_pylist()[0]
            values.update({int(k[2:]): v for k, v in row.items()})
        for i, check in enumerate(checks):
            if check.alone:
                values[i] = raw.aggregate(_s=check.screen).to_pyarrow().column(0)[0].as_py()
        failing = [i for i, check in enumerate(checks) if not check.clean(values[i])]
        if failing:
            searched = locate() if locate is not None else raw
            _, again = _checks(searched, contract)
            _raise_first_bad(searched, contract, [again[i] for i in failing], source)
    return raw.select(**typed)


def _checks(raw: ir.Table, contract: TableContract) -> tuple[dict[str, ir.Value], list[_Check]]:
    present = set(raw.columns)
    checks: list[_Check] = []
    typed: dict[str, ir.Value] = {}
    for column in contract.columns:
        if column.name not in present:
            typed[column.name] = ibis.null(_IBIS_TYPE[column.kind])
            continue
        value, column_checks = _parse(raw[column.name], column)
        typed[column.name] = value
        checks.extend(column_checks)
    return typed, checks


def _no_rows(count: Any) -> bool:
    return not count


def _counted(column: str, problem: str, bad: ir.BooleanValue) -> _Check:
    bad = bad.fill_null(False)
    return _Check(column, problem, bad, bad.cast("int64").sum(), _no_rows)


def _parse(raw: ir.Value, column: Column) -> tuple[ir.Value, list[_Check]]:
    checks: list[_Check] = []
    target = _IBIS_TYPE[column.kind]
    text_input = raw.type().is_string()
    if text_input and column.kind is not Kind.STRING:
        # Text that must become a date or a number (CSV): every row is parsed, so count failures.
        text = raw.strip()
        blank = raw.isnull() | (text == "")
        shape = {Kind.DATE: _ISO_DATE, Kind.INTEGER: _INTEGER, Kind.NUMBER: _NUMBER}[column.kind]
        parsed = text.try_cast(target)
        checks.append(
            _counted(
                column.name,
                f"{{value!r}} is not a valid {_KIND_WORD[column.kind]}",
                ~blank & (~text.re_search(shape) | parsed.isnull()),
            )
        )
        value: ir.Value = ibis.ifelse(blank, ibis.null(target), parsed)
        if column.required:
            checks.append(_counted(column.name, "a value is required", blank))
        return value, checks
    if text_input:
        # Codes and identifiers are used as written (no trimming): a code with stray spaces is
        # reported as an unknown code rather than silently repaired.
        value = raw
        if column.required:
            # Blank = null, empty or whitespace only. Screened without trimming every value: if no
            # value is null or empty and the smallest one starts with a visible character, no value
            # can be blank (whitespace sorts before every visible character).
            blank = raw.isnull() | (raw.strip() == "")
            checks.append(_counted(column.name, "a value is required", raw.isnull() | (raw == "")))
            checks.append(
                _Check(column.name, "a value is required", blank.fill_null(False), raw.min(), _visible_first)
            )
    else:
        value = raw.cast(target)
        if column.required:
            checks.append(_counted(column.name, "a value is required", raw.isnull()))
    if column.pattern is not None or column.vocabulary:
        pattern = re.compile(column.pattern) if column.pattern is not None else None
        vocabulary = frozenset(column.vocabulary)
        code = value.cast("string")
        known = ", ".join(column.vocabulary)
        problem = (
            f"unknown {column.what} {{value!r}} (known: {known})"
            if vocabulary
            else f"unknown {column.what} {{value!r}}"
        )
        matches: ir.BooleanValue = ibis.literal(True)
        if column.pattern is not None:
            matches = code.re_search(column.pattern)
        if vocabulary:
            matches = matches & code.isin(column.vocabulary)
        bad = code.notnull() & ~matches

        def clean(
            values: Any, pattern: re.Pattern[str] | None = pattern, vocabulary: frozenset[str] = vocabulary
        ) -> bool:
            return all(
                (pattern is None or pattern.search(v) is not None) and (not vocabulary or v in vocabulary)
                for v in values or []
            )

        # The distinct values are few (codes), so they are checked here rather than row by row.
        checks.append(
            _Check(column.name, problem, bad.fill_null(False), code.collect(distinct=True), clean, alone=True)
        )
    return value, checks


def _visible_first(smallest: Any) -> bool:
    return smallest is None or (str(smallest)[:1] > " " and str(smallest).strip() != "")


def _raise_first_bad(raw: ir.Table, contract: TableContract, checks: list[_Check], source: str) -> None:
    has_row = ROW in raw.columns
    keys = [k for k in contract.record_keys if k in raw.columns]
    flags = {f"_bad_{i}": check.bad for i, check in enumerate(checks)}
    shown = sorted({c.column for c in checks})
    query = raw.select(
        *([ROW] if has_row else []),
        *[raw[k].cast("string").name(f"_key_{k}") for k in keys],
        *[raw[c].cast("string").name(f"_val_{c}") for c in shown],
        **flags,
    )
    query = query.filter(ibis.or_(*[query[f] for f in flags]))
    order = [ROW] if has_row else [f"_key_{k}" for k in keys]
    rows = query.order_by(order).limit(1).to_pyarrow().to_pylist()
    if not rows:
        return
    row = rows[0]
    check = next(c for i, c in enumerate(checks) if row[f"_bad_{i}"])
    keys_text = "/".join(f"{k}={row[f'_key_{k}']}" for k in keys)
    record: str | int = int(row[ROW]) if has_row else keys_text
    raise InputError(
        check.problem.format(value=row[f"_val_{check.column}"]),
        source=source,
        record=record,
        field=check.column,
    )
