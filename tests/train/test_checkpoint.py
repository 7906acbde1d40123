import pytest
import torch

from thoughtlab.errors import BadInput
from thoughtlab.train import load_checkpoint, save_checkpoint


def test_round_trip_and_no_temporary_files_left(tmp_path):
    state = {"step": 3, "w": torch.arange(4.0), "nested": {"losses": [1.0, 0.5]}}
    path = save_checkpoint(tmp_path / "sub" / "ckpt.pt", state)
    loaded = load_checkpoint(path)
    assert loaded["step"] == 3 and loaded["nested"] == {"losses": [1.0, 0.5]}
    assert torch.equal(loaded["w"], state["w"])
    save_checkpoint(path, {"step": 4})  # overwrite in place
    assert load_checkpoint(path) == {"step": 4}
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]


def test_missing_file_is_bad_input_naming_it(tmp_path):
    with pytest.raises(BadInput, match="nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", None])
def test_corrupt_or_truncated_file_is_bad_input(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content is None:  # a real checkpoint cut in half
        save_checkpoint(path, {"w": torch.zeros(1000)})
        content = path.read_bytes()[:500]
    path.write_bytes(content)
    with pytest.raises(BadInput, match=r"checkpoint .*bad\.pt is corrupt"):
        load_checkpoint(path)


class Arbitrary:
    pass


def test_arbitrary_objects_are_refused_by_weights_only(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"obj": Arbitrary()}, path)
    with pytest.raises(BadInput, match="obj.pt"):
        load_checkpoint(path)
