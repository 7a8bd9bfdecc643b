r"""The train/validation/test triple returned by every split and loader."""
from typing import NamedTuple, Optional

from torch_geometric.data import HeteroData


class InteractionSplit(NamedTuple):
    r"""A train/validation/test split of a bipartite user-item graph, with
    the meaning of :class:`torch_geometric.transforms.RandomLinkSplit`.

    Each part is a full :class:`~torch_geometric.data.HeteroData` with
    ``num_nodes`` on ``'user'`` and ``'item'`` and the raw-id mapping
    ``raw_id`` on both node types.  In every part,
    ``part['user', 'rates', 'item'].edge_index`` holds the *training*
    interactions (used for message passing and for masking seen items at
    evaluation), with the reverse ``('item', 'rated_by', 'user')``, and
    ``part['user', 'rates', 'item'].edge_label_index`` holds that part's
    target interactions (the training edges for :obj:`train`).

    Args:
        train (HeteroData): Training part.
        val (HeteroData, optional): Validation part, :obj:`None` when the
            split has no validation interactions.
        test (HeteroData): Test part.
    """
    train: HeteroData
    val: Optional[HeteroData]
    test: HeteroData

    @property
    def num_users(self) -> int:
        r"""Number of user nodes (shared by all parts)."""
        return int(self.train['user'].num_nodes)

    @property
    def num_items(self) -> int:
        r"""Number of item nodes (shared by all parts)."""
        return int(self.train['item'].num_nodes)
