"""torchvision's ``weights=`` / ``pretrained=`` arguments, for scripts that pass them.

minigrad ships no pretrained weights and downloads nothing: ``weights=None`` and
``pretrained=False`` (a freshly initialised network, what they mean in torchvision)
are accepted, anything else is refused, saying so and what to do instead.
"""


def check_no_pretrained(name, weights=None, pretrained=False, progress=True):
    """Refuse any request for pretrained weights for model ``name``. ``progress`` (the
    download bar) is accepted and unused: nothing is downloaded."""
    if weights is None and pretrained is False:
        return
    asked = f"weights={weights!r}" if weights is not None else f"pretrained={pretrained!r}"
    raise ValueError(f"{name}: minigrad downloads no pretrained weights (got {asked}): pretrained weights are "
                     f"not available. Use {name}(weights=None) for a fresh network, or load a torchvision "
                     f"state_dict: model.load_state_dict({{k: v.numpy() for k, v in tv_model.state_dict().items()}})")
