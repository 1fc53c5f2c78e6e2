"""Rows of one legacy table for one chunk, column by column, ready for a bulk write."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Table


@dataclass
class Rows:
    """Columns in table order (int64 or string arrays) and a NULL mask for nullable ones."""

    table: Table
    columns: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def null_mask(self, name: str) -> np.ndarray:
        return self.nulls.get(name, np.zeros(len(self), dtype=bool))

    def take(self, index: np.ndarray) -> Rows:
        return Rows(
            self.table,
            {name: values[index] for name, values in self.columns.items()},
            {name: mask[index] for name, mask in self.nulls.items()},
        )

    def extended(self, more: Rows) -> Rows:
        """These rows followed by ``more`` (same table)."""
        return Rows(
            self.table,
            {name: np.concatenate([values, more.columns[name]]) for name, values in self.columns.items()},
            {
                name: np.concatenate([self.null_mask(name), more.null_mask(name)])
                for name in self.nulls.keys() | more.nulls.keys()
            },
        )
