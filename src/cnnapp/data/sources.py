"""The catalog of public sources: each dataset and model file cnnapp downloads, pinned, with its content checksum.

This is the one place where the sources' URLs are written. A checksum is over the content as unpacked, not over the
download (a host may rebuild an archive with other bytes). For a single file it is that file's SHA-256. For a folder
it is the SHA-256 of a listing as `sha256sum` prints it, by one of two rules (see fetch.content_checksum):
"images" lists the image files with the folder's name (`find FOLDER -type f -iname '*.jpg' | LC_ALL=C sort | xargs
sha256sum | sha256sum`), "files" lists every file from inside the folder (`cd FOLDER && find . -type f -print0 |
LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`).
"""

import gzip
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cnnapp.data import layouts
from cnnapp.errors import CnnappError

TIMEOUT = 30.0
"""Seconds to wait for a source's connection or for the next bytes of its answer."""
DEADLINE = 3600.0
"""Seconds one download may take in all, however steadily its bytes come."""
GITHUB = "https://github.com"
"""The host most source URLs start with; a mirror stands in for it, as for every source's host."""
MB = 1_000_000


@dataclass(frozen=True)
class Source:
    """Where a named dataset comes from and what it must be once unpacked.

    `target` is the file or folder it becomes under the data directory. For an archive, `members` maps a path
    inside the archive's one top folder to a path under the data directory (inside `target`), in the order they
    are placed; a plain file has no members and is placed as `target` itself. A source with a `layout` instead
    has its members unpacked under the names given, beside the file at `labels_url` if any, and the layout
    builds `target` from them.

    `max_download` caps the bytes of each download and `max_unpacked` the bytes unpacked from the archive: both
    are upper bounds with a wide margin, so that a wrong or hostile mirror is stopped early. `licence` says
    under which terms the data may be used and how to cite it. `pins` names a packaged file of per-photo
    digests (`<first 32 hex digits of SHA-256>  <path in target>` a line): a download may then lack some
    photos, but every photo it has must match its pin. `model` marks a pretrained model file, a plain file that is
    not a dataset (see model_files).
    """

    name: str
    url: str
    target: str
    checksum: str
    max_download: int
    max_unpacked: int
    licence: str
    members: dict[str, str] = field(default_factory=dict)
    rule: str = "images"
    labels_url: str = ""
    layout: Callable[[Path, Path, dict[str, str]], None] | None = None
    pins: str = ""
    model: bool = False


def archive(repository: str, commit: str) -> str:
    """The URL of GitHub's zip of a repository at a commit."""
    return f"{GITHUB}/{repository}/archive/{commit}.zip"


SOURCES = {
    "sign-digits": Source(
        name="sign-digits",
        url=archive("ardamavi/Sign-Language-Digits-Dataset", "4b09433ef9d5c60602e8805bb54b8aa2428527f8"),
        target="sign-language-digits",
        checksum="817e053c8199a7a863fb308b159490d2cef589ac706a038d086cdcad2e72c086",
        max_download=200 * MB,
        max_unpacked=100 * MB,
        licence="Apache-2.0; cite Mavi, A. (2020), arXiv:2011.08927",
        members={
            "Dataset": "sign-language-digits",
            "LICENSE": "sign-language-digits/LICENSE",
            "README.md": "sign-language-digits/README.upstream.md",
        },
    ),
    "smiles": Source(
        name="smiles",
        url=archive("hromi/SMILEsmileD", "6afac66f50061948eed7da5a351cecd9c4a99fe3"),
        target="smiles",
        checksum="e9344288a6f37dc93ab530c1ac26f205dda175a738f27a2428267146e2b8a9a4",
        max_download=300 * MB,
        max_unpacked=100 * MB,
        licence="as published by its author; see smiles/README.upstream",
        members={
            "SMILEs/negatives/negatives7": "smiles/negatives",
            "SMILEs/positives/positives7": "smiles/positives",
            "README": "smiles/README.upstream",
        },
    ),
    "happy-house": Source(
        name="happy-house",
        url=f"{GITHUB}/cristian904/happy-house-dataset/raw/405dd988c204597434a0d9789761ee223016666b/dataset/test_happy.h5",
        target="test_happy.h5",
        checksum="5e23db2f28769de83214dce1411e651489d713f9e1ec5d1ca6a61b6222115add",
        max_download=4 * MB,
        max_unpacked=4 * MB,
        licence="course material of the deep-learning course",
    ),
    "signs-photos": Source(
        name="signs-photos",
        url=archive("littlecapa/pytorch_template", "3daa5f934b878f2e42cc27cd1bdf09ce1b8003f0"),
        target="signs-photos",
        checksum="19174e8411993b733228d465e3360dcfe2a0ab4afa4ba89d8568076a2d921006",
        max_download=500 * MB,
        max_unpacked=20 * MB,
        licence="course material; CS230's code is MIT, its photos carry no stated licence",
        members={f"data/64x64_SIGNS/{part}": part for part in layouts.SIGNS_PARTS},
        rule="files",
        layout=layouts.signs_photos,
    ),
    "genki4k": Source(
        name="genki4k",
        url=archive("miikatiikeri/AML-project", "a27b01e5d8b5c1833123708ae71df8a894816897"),
        target="genki4k",
        checksum="5ec564102ceead7321afd992a2878b8c72e516259839f6fd1c72ec6af78852c9",
        max_download=2000 * MB,
        max_unpacked=200 * MB,
        licence='research use only; cite "http://mplab.ucsd.edu, The MPLab GENKI Dataset, GENKI-4K Subset"',
        members={
            "dataset/GENKI-R2009a/files": "files",
            "dataset/GENKI-R2009a/Subsets/GENKI-4K/GENKI-4K_Images.txt": "GENKI-4K_Images.txt",
            "dataset/GENKI-R2009a/Subsets/GENKI-4K/GENKI-4K_Labels.txt": "GENKI-4K_Labels.txt",
        },
        rule="files",
        layout=layouts.genki4k,
        pins="genki4k.sha256.gz",
    ),
    "celeba-10k": Source(
        name="celeba-10k",
        url=archive("karthikSingireddy/cs389-hw4", "702f8f7bdf59386959872d52879faac800f20ab1"),
        target="celeba-10k",
        checksum="204311c6eec535b9b0ad631902c7c23961386cb5dff7e4bc6fbec7e07905b55e",
        max_download=1000 * MB,
        max_unpacked=100 * MB,
        licence="CelebA, non-commercial research only; cite Liu et al., Deep Learning Face Attributes in the "
        "Wild, ICCV 2015",
        members={"celebA": "celebA"},
        rule="files",
        labels_url=f"{GITHUB}/zgjsxx/face-property-detection-pytorch/raw/9baf27d6fdd8fcb36dcf197fdf203455d76acc5e"
        "/list_attr_celeba.txt",
        layout=layouts.celeba_10k,
    ),
    "hand-landmarker": Source(
        name="hand-landmarker",
        url="https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/1/"
        "hand_landmarker.task",
        target="hand_landmarker.task",
        checksum="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
        max_download=20 * MB,
        max_unpacked=20 * MB,
        licence="Apache-2.0; MediaPipe's Hand Landmarker model (float16, version 1), by Google",
        model=True,
    ),
    "face-landmarks": Source(
        name="face-landmarks",
        url="https://storage.googleapis.com/mediapipe-assets/face_landmark.tflite?generation=1676316347980492",
        target="face_landmark.tflite",
        checksum="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
        max_download=5 * MB,
        max_unpacked=5 * MB,
        licence="Apache-2.0; MediaPipe's face mesh model (face_landmark.tflite), by Google",
        model=True,
    ),
    "mtfl-net": Source(
        name="mtfl-net",
        url=archive("nieag/deepl18_project", "b5a142425fa83472ebc95617a1ce20658c4995d2"),
        target="mtfl-net",
        checksum="bf40f7a7bb95b637ccaa12803c689461cccc13d0b06aa202d092997d129667fb",
        max_download=2000 * MB,
        max_unpacked=300 * MB,
        licence="research use only; cite Zhang et al., Facial Landmark Detection by Deep Multi-task Learning, "
        "ECCV 2014 (MTFL)",
        members={"MTFL/net_7876": "net_7876", "MTFL/training.txt": "training.txt"},
        rule="files",
        layout=layouts.mtfl_net,
    ),
}


def mirrored(url: str, mirror: str | None) -> str:
    """The URL with its scheme and host (`https://github.com` for most) replaced by the mirror's base URL, when
    there is a mirror."""
    if not mirror:
        return url
    if not mirror.startswith(("http://", "https://")):
        raise CnnappError(
            f"mirror {mirror} (`mirror` or CNNAPP_MIRROR): not a base URL starting with http:// or https://",
            parameter="mirror",
        )
    return mirror.rstrip("/") + "/" + url.split("/", 3)[3]


def pinned_photos(source: Source) -> dict[str, str]:
    """Path in the source's target -> the first 32 hex digits of its SHA-256, from the packaged pins file."""
    if not source.pins:
        return {}
    text = gzip.decompress((resources.files("cnnapp.data") / source.pins).read_bytes()).decode()
    return {path: digest for digest, path in (line.split("  ", 1) for line in text.splitlines())}
