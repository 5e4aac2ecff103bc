"""Small vectorised building blocks shared by the synthetic generator: a string vocabulary (every
coded string column is an int32 index into it until the Arrow table is built), expansion of per-owner
counts into rows, exact-count member selection and synthetic identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

IntArray = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

NULL = -1  # null vocabulary index / null small integer
NO_DAY = -(10**6)  # null day offset


class Vocab:
    """Interned strings. Insertion order is deterministic because the generator is."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._values: list[str] = []
        self._arrow: pa.Array | None = None

    def __call__(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = len(self._values)
            self._index[value] = found
            self._values.append(value)
            self._arrow = None
        return found

    def many(self, values: Iterable[str]) -> IntArray:
        return np.array([self(v) for v in values], dtype=np.int64)

    def text(self, index: int) -> str:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)

    def decode(self, indices: npt.NDArray[np.integer]) -> pa.Array:
        """Arrow strings for vocabulary indices; NULL becomes null."""
        if self._arrow is None:
            self._arrow = pa.array(self._values, type=pa.string())
        idx = np.asarray(indices, dtype=np.int32)
        dictionary = pa.DictionaryArray.from_arrays(pa.array(idx, mask=idx < 0), self._arrow)
        return dictionary.dictionary_decode()


def expand(counts: npt.NDArray[np.integer]) -> tuple[IntArray, IntArray]:
    """Rows for per-owner counts: (owner index of each row, 0-based position within its owner)."""
    counts = np.asarray(counts, dtype=np.int64).clip(min=0)
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size, dtype=np.int64) - starts[owner]


def pick(rng: np.random.Generator, eligible: BoolArray, count: float, minimum: int = 0) -> IntArray:
    """Exactly max(minimum, round(count)) eligible indices (or all of them if fewer), sorted.

    Exact counts rather than coin flips so that every rule pattern shows up even in small populations."""
    pool = np.flatnonzero(eligible)
    k = min(pool.size, max(minimum, round(count)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(pool, size=k, replace=False)).astype(np.int64)


def choose(
    rng: np.random.Generator, options: Sequence[int] | IntArray, size: int, p: Sequence[float] | None = None
) -> IntArray:
    return np.asarray(rng.choice(np.asarray(options, dtype=np.int64), size=size, p=p), dtype=np.int64)


def npi_check_digit(nine_digits: str) -> int:
    """Luhn check digit of an NPI (computed over the 80840 prefix plus the first nine digits)."""
    total = 24  # the constant contribution of the 80840 prefix
    for position, char in enumerate(reversed(nine_digits)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(text: str) -> bool:
    return len(text) == 10 and text.isdigit() and npi_check_digit(text[:9]) == int(text[9])


def make_npis(rng: np.random.Generator, count: int, first_digit: int) -> list[str]:
    """Unique synthetic NPIs with valid check digits."""
    start = first_digit * 10**8 + int(rng.integers(0, 5 * 10**7))
    out = []
    for i in range(count):
        nine = str(start + i * 37)
        out.append(nine + str(npi_check_digit(nine)))
    return out
