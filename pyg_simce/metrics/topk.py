import math
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from pyg_simce.nn.conv.norm import check_edge_index
from pyg_simce.sampler.positive_index import PositiveIndex

#: A set of (user, item) pairs to mask: an edge index, a prebuilt
#: :class:`~pyg_simce.sampler.PositiveIndex`, or a sequence of those.
Exclusion = Union[None, Tensor, PositiveIndex, Sequence[Union[Tensor,
                                                              PositiveIndex]]]

#: Memory bound of one chunk of scores, in bytes (default of ``chunk_size``).
MAX_CHUNK_BYTES = 256 * 1024 * 1024
#: Preferred size of one chunk of scores, in bytes.
TARGET_CHUNK_BYTES = 128 * 1024 * 1024


def _check_embeddings(user_emb: Tensor, item_emb: Tensor) -> None:
    for name, emb in (('user_emb', user_emb), ('item_emb', item_emb)):
        if not isinstance(emb, Tensor):
            raise ValueError(f"'{name}' expected a torch.Tensor "
                             f"(got {type(emb).__name__})")
        if emb.dim() != 2:
            raise ValueError(f"'{name}' expected shape [num_nodes, d] "
                             f"(got {list(emb.size())})")
        if not emb.dtype.is_floating_point:
            raise ValueError(f"'{name}' expected a floating-point tensor "
                             f"(got dtype {emb.dtype})")
    if user_emb.size(1) != item_emb.size(1):
        raise ValueError(f"'user_emb' and 'item_emb' expected the same "
                         f"embedding size (got {user_emb.size(1)} and "
                         f"{item_emb.size(1)})")


def default_chunk_size(num_items: int, element_size: int = 4,
                       max_bytes: int = MAX_CHUNK_BYTES) -> int:
    r"""The number of users scored at once by default: one chunk of scores,
    :obj:`chunk_size * num_items` elements, takes about 128 MB, and never
    more than :obj:`max_bytes` (256 MB by default).

    Larger chunks do not make the matrix product faster and raise the memory
    peak; smaller ones multiply the short parallel regions of the masking
    and selection steps, which cost most on a shared (oversubscribed)
    machine (Gowalla, 2 cores: 819-user chunks beat 409-user ones there).
    """
    per_user = max(1, num_items) * element_size
    target = min(max_bytes, TARGET_CHUNK_BYTES)
    return int(max(1, target // per_user))


def build_exclusion(exclude: Exclusion, num_users: int, num_items: int,
                    name: str = 'exclude_edge_index') -> List[PositiveIndex]:
    r"""Turns an exclusion argument into a list of
    :class:`~pyg_simce.sampler.PositiveIndex` over the full user and item
    numbering."""
    if exclude is None:
        return []
    if isinstance(exclude, (Tensor, PositiveIndex)):
        exclude = [exclude]
    out: List[PositiveIndex] = []
    for i, ex in enumerate(exclude):
        if ex is None:
            continue
        if isinstance(ex, PositiveIndex):
            if ex.num_users > num_users or ex.num_items != num_items:
                raise ValueError(
                    f"'{name}' expected a PositiveIndex over at most "
                    f"{num_users} users and exactly {num_items} items (got "
                    f"{ex.num_users} users and {ex.num_items} items)")
            out.append(ex)
            continue
        if not isinstance(ex, Tensor):
            raise ValueError(f"'{name}' expected a [2, E] tensor or a "
                             f"PositiveIndex (got {type(ex).__name__})")
        try:
            out.append(PositiveIndex(ex, num_users, num_items))
        except ValueError as e:
            raise ValueError(f"'{name}': {e}") from None
    return out


def exclusion_list(exclude: Exclusion, num_users: int,
                   num_items: int) -> list:
    r"""Checks an :obj:`exclude_edge_index` argument (:obj:`None`, a
    :obj:`[2, E]` tensor, a :class:`~pyg_simce.sampler.PositiveIndex` or a
    list/tuple of those) and returns it as a list."""
    if exclude is None:
        return []
    items = list(exclude) if isinstance(exclude, (list, tuple)) else \
        [exclude]
    for i, ex in enumerate(items):
        if isinstance(ex, Tensor):
            name = ('exclude_edge_index' if len(items) == 1 and
                    not isinstance(exclude, (list, tuple)) else
                    f'exclude_edge_index[{i}]')
            check_edge_index(ex, (num_users, num_items), name=name)
    return items


def _check_src_index(src_index: Optional[Tensor], num_users: int,
                     device: torch.device) -> Tensor:
    if src_index is None:
        return torch.arange(num_users, device=device)
    if not isinstance(src_index, Tensor):
        src_index = torch.as_tensor(src_index)
    if src_index.dtype.is_floating_point or src_index.dtype == torch.bool:
        raise ValueError(f"'src_index' expected an integer tensor "
                         f"(got dtype {src_index.dtype})")
    src_index = src_index.to(device, torch.long).view(-1)
    if src_index.numel() > 0:
        lo, hi = int(src_index.min()), int(src_index.max())
        if lo < 0 or hi >= num_users:
            raise ValueError(f"'src_index' expected user ids in "
                             f"[0, {num_users}) (got range [{lo}, {hi}])")
    return src_index


def selection_block_size(num_items: int, k: int) -> int:
    r"""The item block length :math:`L` of the two-stage top-:math:`k`
    selection in :func:`iter_topk`, or :obj:`0` when a plain
    :func:`torch.topk` over the whole row is used.

    The selection costs about :math:`|\mathcal{I}|` cheap max operations plus
    a :func:`torch.topk` over :math:`|\mathcal{I}|/L + kL` values, minimised
    near :math:`L = \sqrt{|\mathcal{I}| / k}`; :math:`L` is rounded to a
    power of two in :math:`[8, 256]`.
    """
    if num_items < 64 * k:
        return 0
    size = 2**round(math.log2(math.sqrt(num_items / k)))
    return int(min(256, max(8, size)))


def iter_topk(
    user_emb: Tensor,
    item_emb: Tensor,
    k: int,
    users: Tensor,
    exclusions: List[PositiveIndex],
    chunk_size: int,
    timings: Optional[Dict[str, float]] = None,
) -> Iterator[Tuple[int, Tensor, Tensor]]:
    r"""Yields :obj:`(start, topk_value, topk_index)` for consecutive chunks of
    :obj:`users`, scores sorted in decreasing order; excluded pairs are set to
    :math:`-\infty` before selection and slots that could only be filled with
    excluded items get index :obj:`-1` (and value :math:`-\infty`).

    Three things make this faster than a plain loop of
    :obj:`matmul -> index_put -> topk` over user chunks:

    1. One score buffer of :obj:`chunk_size * num_items` elements is
       allocated once and reused: :func:`torch.mm` writes into it with
       :obj:`out=`, so no chunk pays for a fresh allocation and its page
       faults.
    2. Masking is one :meth:`~torch.Tensor.index_fill_` on the buffer's flat
       view with indices gathered from the CSR
       :class:`~pyg_simce.sampler.PositiveIndex`.
    3. Top-:math:`k` is a two-stage selection. The item axis is cut into
       blocks of :math:`L` items; the :math:`k` items with the highest scores
       always lie in the :math:`k` blocks with the highest block maxima (a
       block outside them is beaten by :math:`k` block maxima). So one
       vectorised :meth:`~torch.Tensor.amax` over blocks, a
       :func:`torch.topk` over the block maxima and a :func:`torch.topk` over
       the :math:`kL` gathered candidates replace a :func:`torch.topk` over
       all items, which dominates the plain loop. Items are padded to a
       multiple of :math:`L` with :math:`-\infty` scores.
    """
    num_items, dim = item_emb.size()
    n = users.numel()
    dtype = torch.promote_types(user_emb.dtype, item_emb.dtype)
    device = user_emb.device
    user_emb = user_emb.to(dtype)
    block = selection_block_size(num_items, k)
    if block > 0:
        num_blocks = -(-num_items // block)
        width = num_blocks * block
    else:
        num_blocks, width = 0, num_items
    if width > num_items:
        padded = item_emb.new_zeros(width, dim, dtype=dtype)
        padded[:num_items] = item_emb
        item_t = padded.t()
    else:
        item_t = item_emb.to(dtype).t()
    buf = torch.empty(min(chunk_size, max(n, 1)) * width, dtype=dtype,
                      device=device)
    neg_inf = float('-inf')
    clock = time.perf_counter if timings is not None else None
    # Gather the excluded pairs of all users once, as flat offsets into a
    # chunk's buffer relative to the chunk's first row; per chunk, masking
    # is then one slice, one subtraction and one index_fill_.
    masks: List[Tuple[Tensor, Tensor]] = []
    for ex in exclusions:
        inside = users < ex.num_users
        all_inside = bool(inside.all())
        batch, items = ex._neighbors(
            users if all_inside else users.clamp(max=ex.num_users - 1))
        if not all_inside:
            keep = inside[batch]
            batch, items = batch[keep], items[keep]
        ptr = torch.searchsorted(
            batch, torch.arange(0, n + chunk_size, chunk_size,
                                device=device)).tolist()
        masks.append((batch * width + items, ptr))
    for chunk_id, start in enumerate(range(0, n, chunk_size)):
        u = users[start:start + chunk_size]
        c = u.numel()
        scores = buf[:c * width].view(c, width)
        if clock is not None:
            t0 = clock()
        torch.mm(user_emb.index_select(0, u), item_t, out=scores)
        if clock is not None:
            t1 = clock()
        if width > num_items:
            scores[:, num_items:] = neg_inf
        flat_scores = scores.view(-1)
        for flat, ptr in masks:
            lo, hi = ptr[chunk_id], ptr[chunk_id + 1]
            if hi > lo:
                flat_scores.index_fill_(0, flat[lo:hi] - start * width,
                                        neg_inf)
        if clock is not None:
            t2 = clock()
        if block > 0:
            blocks = scores.view(c, num_blocks, block)
            top_block = blocks.amax(dim=-1).topk(k, dim=1, sorted=False)[1]
            cand = blocks.gather(
                1, top_block.unsqueeze(-1).expand(c, k, block))
            value, local = cand.view(c, k * block).topk(k, dim=1)
            index = top_block.gather(1, local // block) * block
            index += local % block
        else:
            value, index = torch.topk(scores, k, dim=1, sorted=True)
        if exclusions or width > num_items:
            index.masked_fill_(value == neg_inf, -1)
        if clock is not None:
            t3 = clock()
            for key, sec in (('matmul', t1 - t0), ('mask', t2 - t1),
                             ('select', t3 - t2)):
                timings[key] = timings.get(key, 0.0) + sec
        yield start, value, index


def topk_items(
    user_emb: Tensor,
    item_emb: Tensor,
    k: int,
    *,
    src_index: Optional[Tensor] = None,
    exclude_edge_index: Exclusion = None,
    chunk_size: Optional[int] = None,
    return_scores: bool = False,
) -> Union[Tensor, Tuple[Tensor, Tensor]]:
    r"""Returns the top-:math:`k` items of every (selected) user under dot
    product scores :math:`s_{ui} = \mathbf{e}_u^{\top} \mathbf{e}_i`, scoring
    the whole catalogue in user chunks so that memory stays bounded by
    :obj:`chunk_size * num_items` scores.

    .. math::
        \mathrm{top}_k(u) = \operatorname{arg\,top}_k \{ s_{ui} :
        i \in \mathcal{I} \setminus \mathcal{E}_u \}

    where :math:`\mathcal{E}_u` are the user's excluded items (typically
    the training items). Excluded items are never returned: when a user has
    fewer than :math:`k` admissible items, the remaining slots hold
    :obj:`-1` (score :math:`-\infty`); map ids to raw ids with
    :func:`~pyg_simce.data.to_raw_ids`, which refuses :obj:`-1`.

    Args:
        user_emb (torch.Tensor): User embeddings of all users.
        item_emb (torch.Tensor): Item embeddings of all items.
        k (int): The number of items per user.
        src_index (torch.Tensor, optional): The users to rank, as ids into
            :obj:`user_emb`; all users when :obj:`None`.
            (default: :obj:`None`)
        exclude_edge_index (torch.Tensor or PositiveIndex or list, optional):
            (user, item) pairs never to recommend, as a
            :obj:`('user', 'rates', 'item')`-style :obj:`[2, E]` tensor whose
            row 0 holds user ids in the full numbering of :obj:`user_emb`, a
            prebuilt :class:`~pyg_simce.sampler.PositiveIndex`, or a list of
            those (e.g. training and validation edges).
            (default: :obj:`None`)
        chunk_size (int, optional): Users scored at once; by default chosen
            so that a chunk of scores stays below 256 MB.
            (default: :obj:`None`)
        return_scores (bool, optional): Also return the scores of the
            returned items, :obj:`(ids, scores)`; :math:`-\infty` in the
            :obj:`-1` slots. (default: :obj:`False`)

    Shapes:
        - **user_emb**: :obj:`[num_users, d]`
        - **item_emb**: :obj:`[num_items, d]`
        - **output**: :obj:`[n, k]` with :obj:`n = len(src_index)` (or
          :obj:`num_users`), items sorted by decreasing score.
    """
    _check_embeddings(user_emb, item_emb)
    num_users, num_items = user_emb.size(0), item_emb.size(0)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"'k' expected a positive integer (got {k})")
    if k > num_items:
        raise ValueError(f"'k' expected at most the number of items "
                         f"{num_items} (got {k})")
    if chunk_size is None:
        chunk_size = default_chunk_size(num_items,
                                        user_emb.element_size())
    elif not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"'chunk_size' expected a positive integer "
                         f"(got {chunk_size})")
    users = _check_src_index(src_index, num_users, user_emb.device)
    exclusions = build_exclusion(exclude_edge_index, num_users, num_items)

    out = torch.empty(users.numel(), k, dtype=torch.long,
                      device=user_emb.device)
    scores = None
    if return_scores:
        scores = torch.empty(users.numel(), k, device=user_emb.device,
                             dtype=torch.promote_types(user_emb.dtype,
                                                       item_emb.dtype))
    with torch.no_grad():
        for start, value, index in iter_topk(user_emb.detach(),
                                             item_emb.detach(), k, users,
                                             exclusions, chunk_size):
            out[start:start + index.size(0)] = index
            if scores is not None:
                scores[start:start + index.size(0)] = value
    return (out, scores) if return_scores else out


__all__ = ['topk_items', 'default_chunk_size']
