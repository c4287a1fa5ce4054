"""On-disk data loaders (CIFAR pickles, image folders + cache), batch transforms and the epoch sampler."""

import io
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from dynacortex.data import folders
from dynacortex.data.cifar import load_cifar, safe_load_pickle
from dynacortex.data.folders import load_image_folder
from dynacortex.data.tensor_dataset import EpochShuffleSampler, ImageTensorDataset
from dynacortex.data.transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat

# ---------------------------------------------------------------- CIFAR


def _cifar_batch(n, label_key, offset, n_classes):
    """An official-format batch: data (n, 3072) uint8 row-major (1024 R, 1024 G, 1024 B), labels a list."""
    rng = np.random.default_rng(offset)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    data[0, :1024], data[0, 1024:2048], data[0, 2048:] = 10, 20, 30  # image 0: pure (10, 20, 30) RGB
    data[0, 1024 + 5 * 32 + 7] = 200  # G channel, row 5, col 7
    return {b"batch_label": b"fake", b"data": data, label_key: [(offset + i) % n_classes for i in range(n)],
            b"filenames": [b"x.png"] * n}


def _dump(obj, path, protocol=pickle.DEFAULT_PROTOCOL):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


class _Py2Pickler(pickle._Pickler):
    """Writes ``bytes`` as Python-2 ``str`` opcodes (SHORT_BINSTRING/BINSTRING), as in the official CIFAR files."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_str(self, obj):
        n = len(obj)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str


@pytest.fixture
def cifar10_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):  # mix protocols: <=4 pickles arrays via _reconstruct, 5 via _frombuffer
        _dump(_cifar_batch(3, b"labels", i, 10), folder / f"data_batch_{i}", protocol=2 + i % 4)
    buf = io.BytesIO()  # the official files: Python-2 cPickle, protocol 2, numpy < 2 module path
    _Py2Pickler(buf, protocol=2).dump(_cifar_batch(4, b"labels", 100, 10))
    (folder / "test_batch").write_bytes(buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n"))
    _dump({b"label_names": [f"c{i}".encode() for i in range(10)], b"num_cases_per_batch": 3}, folder / "batches.meta")
    return tmp_path


def test_cifar10_train_and_test(cifar10_root):
    x, y, classes = load_cifar(cifar10_root, "cifar10", "train")
    assert x.shape == (15, 3, 32, 32) and x.dtype == torch.uint8
    assert y.dtype == torch.int64 and y.tolist() == [(b + i) % 10 for b in range(1, 6) for i in range(3)]
    assert classes == [f"c{i}" for i in range(10)]
    assert x[0, :, 0, 0].tolist() == [10, 20, 30]  # channel order R, G, B
    assert x[0, 1, 5, 7] == 200 and x[0, 1, 5, 6] == 20 and x[0, 1, 7, 5] == 20  # row-major pixel layout
    raw = pickle.loads((cifar10_root / "cifar-10-batches-py" / "data_batch_2").read_bytes())[b"data"]
    assert torch.equal(x[3:6], torch.from_numpy(raw.reshape(3, 3, 32, 32)))
    xt, yt, _ = load_cifar(cifar10_root / "cifar-10-batches-py", split="test")  # the folder itself also works
    assert xt.shape == (4, 3, 32, 32) and yt.tolist() == [0, 1, 2, 3]


def test_cifar100_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for split, n in (("train", 5), ("test", 2)):
        batch = _cifar_batch(n, b"fine_labels", 7, 100)
        batch[b"coarse_labels"] = [99] * n  # must not be used
        _dump(batch, folder / split)
    _dump({b"fine_label_names": [f"f{i}".encode() for i in range(100)],
           b"coarse_label_names": [b"x"] * 20}, folder / "meta")
    x, y, classes = load_cifar(tmp_path, "cifar100", "train")
    assert x.shape == (5, 3, 32, 32) and y.tolist() == [7, 8, 9, 10, 11]
    assert len(classes) == 100 and classes[7] == "f7"
    assert x[0, :, 31, 31].tolist() == [10, 20, 30]
    assert load_cifar(tmp_path, "cifar100", "test")[0].shape == (2, 3, 32, 32)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


def test_malicious_pickle_is_refused(cifar10_root):
    pwned = cifar10_root / "pwned"
    path = cifar10_root / "cifar-10-batches-py" / "test_batch"
    _dump({b"data": _Evil(pwned), b"labels": [0]}, path)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        load_cifar(cifar10_root, split="test")
    _dump(eval, path)
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        safe_load_pickle(path)
    assert not pwned.exists()


def test_cifar_bad_arguments_and_missing_files(tmp_path, cifar10_root):
    with pytest.raises(ValueError, match=r"name: must be one of \['cifar10', 'cifar100'\]"):
        load_cifar(tmp_path, "cifar11")
    with pytest.raises(ValueError, match=r"split: must be one of \['train', 'test'\]"):
        load_cifar(tmp_path, split="val")
    with pytest.raises(FileNotFoundError, match="cifar-100-python"):
        load_cifar(tmp_path / "nowhere", "cifar100")
    (cifar10_root / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar(cifar10_root)


# ---------------------------------------------------------------- image folders


@pytest.fixture
def image_root(tmp_path):
    """train/: 'cat' has 2 images, 'dog' has 1 (non-square, solid colours); val/ is empty."""
    specs = {"cat": [((40, 20), (255, 0, 0)), ((16, 16), (0, 255, 0))], "dog": [((20, 30), (0, 0, 255))]}
    for cls, imgs in specs.items():
        (tmp_path / "train" / cls).mkdir(parents=True)
        for i, (wh, rgb) in enumerate(imgs):
            Image.new("RGB", wh, rgb).save(tmp_path / "train" / cls / f"{i}.png")
    (tmp_path / "train" / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / "val" / "cat").mkdir(parents=True)
    return tmp_path


def test_image_folder_decodes_and_caches(image_root, monkeypatch):
    x, y, classes = load_image_folder(image_root, "train", size=8, progress=False)
    assert x.shape == (3, 3, 8, 8) and x.dtype == torch.uint8
    assert y.tolist() == [0, 0, 1] and y.dtype == torch.int64 and classes == ["cat", "dog"]
    assert x[0, :, 4, 4].tolist() == [255, 0, 0] and x[2, :, 0, 0].tolist() == [0, 0, 255]
    cache = image_root / ".dynacortex_cache"
    assert (cache / "train-8px.complete").is_file() and not list(cache.glob("*.tmp-*"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("PIL.Image.open called although the cache is complete")

    monkeypatch.setattr(Image, "open", no_decoding)
    x2, y2, classes2 = load_image_folder(image_root, "train", size=8, progress=False)
    assert torch.equal(x2, x) and torch.equal(y2, y) and classes2 == classes
    x2[0] = 0  # copy-on-write map: writable, but the cache file is untouched
    assert torch.equal(load_image_folder(image_root, "train", size=8, progress=False)[0], x)


def test_image_folder_rebuilds_incomplete_cache(image_root, monkeypatch, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("cache")
    x = load_image_folder(image_root, size=6, cache_dir=cache_dir, progress=False)[0].clone()
    (cache_dir / "train-6px.complete").unlink()  # as if interrupted before the marker was written
    np.lib.format.open_memmap(cache_dir / "train-6px.images.npy", mode="r+")[:] = 7  # garbage in the data file
    calls = []
    real = folders.decode_image
    monkeypatch.setattr(folders, "decode_image", lambda p, size: calls.append(p) or real(p, size))
    x2, _, _ = load_image_folder(image_root, size=6, cache_dir=cache_dir, progress=False)
    assert len(calls) == 3 and torch.equal(x2, x) and (cache_dir / "train-6px.complete").is_file()
    Image.new("RGB", (9, 9), (1, 2, 3)).save(image_root / "train" / "dog" / "1.png")  # file list changes
    x3, y3, _ = load_image_folder(image_root, size=6, cache_dir=cache_dir, progress=False)
    assert len(calls) == 7 and x3.shape[0] == 4 and y3.tolist() == [0, 0, 1, 1]


def test_image_folder_process_pool_matches_serial(image_root, tmp_path_factory):
    serial = load_image_folder(image_root, size=5, cache_dir=tmp_path_factory.mktemp("a"), progress=False)
    pooled = load_image_folder(image_root, size=5, cache_dir=tmp_path_factory.mktemp("b"), progress=False,
                               num_workers=2)
    assert torch.equal(serial[0], pooled[0]) and torch.equal(serial[1], pooled[1])


def test_image_folder_errors(image_root):
    with pytest.raises(FileNotFoundError, match="test"):
        load_image_folder(image_root, "test", progress=False)
    with pytest.raises(FileNotFoundError, match="no images"):
        load_image_folder(image_root, "val", progress=False)
    with pytest.raises(ValueError, match="size"):
        load_image_folder(image_root, size=0)
    with pytest.raises(ValueError, match="split"):
        load_image_folder(image_root, split="../train")


# ---------------------------------------------------------------- transforms


def _batch(b=6, c=3, h=8, w=8):
    return torch.arange(b * c * h * w, dtype=torch.float32).reshape(b, c, h, w)


def test_transforms_are_deterministic_given_a_generator():
    x = torch.randint(0, 256, (16, 3, 12, 12), dtype=torch.uint8)
    t = Compose([ToFloat(), RandomCrop(10, padding=2), RandomHorizontalFlip(), Normalize([0.5] * 3, [0.25] * 3)])
    a = t(x, torch.Generator().manual_seed(3))
    b = t(x, torch.Generator().manual_seed(3))
    c = t(x, torch.Generator().manual_seed(4))
    assert a.shape == (16, 3, 10, 10) and torch.equal(a, b) and not torch.equal(a, c)


def test_random_crop_offsets_vary_and_match_a_reference():
    x = _batch(b=32) + 1  # strictly positive, so padded zeros are recognisable
    gen = torch.Generator().manual_seed(0)
    out = RandomCrop(8, padding=3)(x, gen)
    assert out.shape == x.shape
    gen = torch.Generator().manual_seed(0)
    top, left = torch.randint(0, 7, (32,), generator=gen), torch.randint(0, 7, (32,), generator=gen)
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    for i in range(32):
        assert torch.equal(out[i], padded[i, :, top[i]:top[i] + 8, left[i]:left[i] + 8])
    assert len(set(zip(top.tolist(), left.tolist()))) > 10
    assert (out == 0).any()  # some crops include padding
    assert RandomCrop((4, 6))(x).shape == (32, 3, 4, 6)


def test_flip_flips_exactly_the_chosen_images():
    x = _batch(b=64)
    out = RandomHorizontalFlip(0.5)(x, torch.Generator().manual_seed(1))
    chosen = torch.rand(64, generator=torch.Generator().manual_seed(1)) < 0.5
    assert 0 < chosen.sum() < 64
    assert torch.equal(out[chosen], x[chosen].flip(-1)) and torch.equal(out[~chosen], x[~chosen])
    assert torch.equal(RandomHorizontalFlip(1.0)(x), x.flip(-1)) and torch.equal(RandomHorizontalFlip(0.0)(x), x)


def test_to_float_and_normalize_math():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 2, 2)
    f = ToFloat()(x)
    assert f.dtype == torch.float32 and torch.allclose(f[0, :, 0, 0], torch.tensor([0.0, 0.2, 1.0]))
    out = Normalize([0.0, 0.1, 0.5], [1.0, 0.5, 0.25])(f)
    assert torch.allclose(out[1, :, 1, 1], torch.tensor([0.0, 0.2, 2.0]))


def test_transform_argument_validation():
    for make, match in ((lambda: RandomHorizontalFlip(1.5), "p: must be"), (lambda: RandomCrop(0), "size: must"),
                        (lambda: RandomCrop(4, padding=-1), "padding: must"),
                        (lambda: Normalize([0.5], [0.0]), "std: all entries"),
                        (lambda: Normalize([0.5, 0.5], [1.0]), "mean, std"),
                        (lambda: Compose([1]), "transforms: every entry"), (lambda: ToFloat(torch.int32), "dtype")):
        with pytest.raises(ValueError, match=match):
            make()
    with pytest.raises(ValueError, match="apply ToFloat first"):
        Normalize([0.5] * 3, [0.5] * 3)(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        RandomHorizontalFlip()(torch.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(10)(torch.zeros(1, 3, 8, 8))


# ---------------------------------------------------------------- dataset and sampler


def test_image_tensor_dataset_with_dataloader():
    images = torch.randint(0, 256, (10, 3, 4, 4), dtype=torch.uint8)
    labels = torch.arange(10)
    ds = ImageTensorDataset(images, labels)
    assert len(ds) == 10 and torch.equal(ds[3][0], images[3]) and ds[3][1] == 3
    sampler = EpochShuffleSampler(ds, seed=1)
    xb, yb = next(iter(torch.utils.data.DataLoader(ds, batch_size=4, sampler=sampler)))
    assert xb.shape == (4, 3, 4, 4) and torch.equal(xb, images[yb])
    with pytest.raises(ValueError, match="labels"):
        ImageTensorDataset(images, labels[:5])


def test_sampler_order_depends_only_on_seed_and_epoch():
    a, b = EpochShuffleSampler(100, seed=5), EpochShuffleSampler(100, seed=5)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b) and sorted(a) == list(range(100))
    assert list(a) == list(a)  # re-iterating replays the epoch (resume at an epoch boundary)
    b.set_epoch(4)
    assert list(a) != list(b)
    assert list(EpochShuffleSampler(100, seed=6)) != list(EpochShuffleSampler(100, seed=5))
    assert list(EpochShuffleSampler(7, shuffle=False)) == list(range(7))


@pytest.mark.parametrize("n, replicas", [(100, 4), (10, 3), (2, 4)])
def test_sampler_rank_shards_are_disjoint_and_cover(n, replicas):
    shards = []
    for rank in range(replicas):
        s = EpochShuffleSampler(n, seed=2, num_replicas=replicas, rank=rank)
        s.set_epoch(1)
        shards.append(list(s))
    per_rank = -(-n // replicas)
    assert all(len(s) == per_rank for s in shards)
    flat = [i for s in shards for i in s]
    assert set(flat) == set(range(n))
    if n % replicas == 0:
        assert len(set(flat)) == n  # no padding: the shards are disjoint
    else:
        assert len(flat) - len(set(flat)) == per_rank * replicas - n  # only the wrap-around padding repeats
    with pytest.raises(ValueError, match="rank"):
        EpochShuffleSampler(n, num_replicas=replicas, rank=replicas)
