"""Learning-rate schedules: they set ``group["lr"]`` of an optimizer's parameter groups.

Used as in PyTorch: make the schedule after the optimizer, call ``optimizer.step()``
then ``scheduler.step()`` once per epoch (or per iteration: ``t`` counts the calls).
At construction a schedule remembers each group's starting rate ``lr₀`` (saved in the
group as ``initial_lr``) and sets the rate for ``t = 0``.

Every schedule except ReduceLROnPlateau is a closed formula ``lr_t = f(lr₀, t)`` (a
``ClosedFormLR``; a new one is a subclass with its own ``_lr(base_lr, t)``):

    StepLR             lr₀ · γ^⌊t / step_size⌋
    MultiStepLR        lr₀ · γ^(number of milestones ≤ t)
    ExponentialLR      lr₀ · γ^t
    LambdaLR           lr₀ · f(t), for a function f of yours
    InverseTimeLR      lr₀ · C / (C + t)                      the lecture notes' 1/(C+t)
    InverseSqrtLR      lr₀ / √(1 + t/C)                       ≈ lr₀ √C / √t for t ≫ C
    CosineAnnealingLR  η_min + (lr₀ − η_min)(1 + cos(π t / T_max)) / 2
    LinearWarmup       lr₀ · (s + (1 − s) t / W) for t < W, then another schedule (or lr₀)
    CosineAnnealingWarmRestarts   the cosine, restarted at lr₀ after T_0, T_0·T_mult, … steps
    OneCycleLR         up from max_lr / div_factor to max_lr, then down to a tiny rate (cosine or linear)

ReduceLROnPlateau instead watches a metric and multiplies the rate by ``factor`` when it
has stopped improving for ``patience`` epochs.

``state_dict()`` holds Python numbers, strings and lists (and a nested dict for the
schedule a warm-up hands over to), ready for JSON or an ``.npz``.
"""
import bisect
import math

import numpy as np

from minigrad.optim.optimizer import Optimizer, _to_plain


class LRScheduler:
    """What every schedule shares: the optimizer it drives, ``get_last_lr()``,
    ``state_dict()`` / ``load_state_dict()`` and argument checks."""
    needs_metric = False  # True where step() takes the watched metric (ReduceLROnPlateau)

    def _attach(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{self._name}: expected a minigrad Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer

    @property
    def _name(self):
        return type(self).__name__

    def _require(self, ok, name, value, expected):
        if not ok:
            raise ValueError(f"{self._name}: invalid {name}={value!r}: expected {expected}")

    def _check_arguments(self):
        """Raise ValueError naming the first invalid argument (also run on load)."""

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute except the optimizer: the arguments, the step count and the last
        rates; a schedule held inside (a warm-up's ``after``) as a nested dict."""
        return {key: value.state_dict() if isinstance(value, LRScheduler) else value
                for key, value in vars(self).items() if key != "optimizer" and value is not None}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (possibly via JSON or an ``.npz``: lists
        may come back as arrays, numbers as 0-d arrays). Raises ValueError naming missing,
        unexpected or invalid entries, and then changes nothing."""
        where = f"{self._name}.load_state_dict"
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        if missing or unexpected:
            raise ValueError(f"{where}: missing entries {missing}, unexpected entries {unexpected}")
        before = dict(vars(self))
        inner = {key: value for key, value in state_dict.items()
                 if isinstance(getattr(self, key), LRScheduler)}
        try:
            for key, value in state_dict.items():
                if key in inner:
                    continue
                current = getattr(self, key)
                value = _to_plain(value, current)
                if isinstance(current, list):
                    value = list(np.ravel(value).tolist())
                    if len(value) != len(self.optimizer.param_groups):
                        raise ValueError(f"{where}: '{key}' has {len(value)} entries, the "
                                         f"optimizer has {len(self.optimizer.param_groups)} "
                                         f"parameter groups")
                setattr(self, key, value)
            self._check_arguments()
            for key, value in inner.items():  # last: each restores itself all or nothing
                getattr(self, key).load_state_dict(value)
        except Exception:
            vars(self).clear()
            vars(self).update(before)
            raise


class ClosedFormLR(LRScheduler):
    """Base of the schedules given by a formula ``lr_t = self._lr(lr₀, t)``; a new schedule
    is a subclass with its own ``_lr`` (and ``_check_arguments``)."""

    def __init__(self, optimizer, last_epoch=-1):
        self._attach(optimizer)
        self._check_arguments()
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{self._name}: invalid last_epoch={last_epoch!r}: expected -1 (a new "
                             f"schedule) or the index of the last step taken")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        for i, group in enumerate(optimizer.param_groups):
            if "initial_lr" not in group:
                raise KeyError(f"{self._name}: resuming at last_epoch={last_epoch} needs "
                               f"'initial_lr' in param_groups[{i}]: load the optimizer's state "
                               f"dict first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def _lr(self, base_lr, t):
        raise NotImplementedError

    def lr_at(self, t):
        """The learning rates of all groups at step ``t``."""
        return [self._lr(base_lr, t) for base_lr in self.base_lrs]

    def step(self):
        """Advance ``t`` by one and set every group's ``lr`` to the schedule's value."""
        self.last_epoch += 1
        self._last_lr = self.lr_at(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


def _is_count(value, least):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= least


class StepLR(ClosedFormLR):
    """StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1): step decay,
    ``lr_t = lr₀ · γ^⌊t / step_size⌋`` (multiply by γ every ``step_size`` steps)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(_is_count(self.step_size, 1), "step_size", self.step_size,
                      "an integer >= 1")
        self._require(self.gamma > 0, "gamma", self.gamma, "gamma > 0")

    def _lr(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(ClosedFormLR):
    """MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1): multiply by γ at each
    milestone, ``lr_t = lr₀ · γ^(number of milestones ≤ t)`` (a repeated milestone counts
    twice, as in PyTorch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = tuple(sorted(milestones)), gamma  # a tuple: not one entry per group
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(all(_is_count(m, 0) for m in self.milestones), "milestones", self.milestones,
                      "a list of integers >= 0")
        self._require(self.gamma > 0, "gamma", self.gamma, "gamma > 0")

    def _lr(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(ClosedFormLR):
    """ExponentialLR(optimizer, gamma, last_epoch=-1): ``lr_t = lr₀ · γ^t`` (multiply by γ
    every step)."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(self.gamma > 0, "gamma", self.gamma, "gamma > 0")

    def _lr(self, base_lr, t):
        return base_lr * self.gamma ** t


class LambdaLR(ClosedFormLR):
    """LambdaLR(optimizer, lr_lambda, last_epoch=-1): ``lr_t = lr₀ · f(t)`` for a function
    ``f`` of the step count (or a list of them, one per parameter group). As in PyTorch the
    functions are not part of ``state_dict()``: make the schedule with them, then load."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ValueError(f"LambdaLR: expected one function or a list of {groups} functions "
                             f"(one per parameter group), got {lr_lambda!r}")
        self._lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, t):
        return [base_lr * f(t) for base_lr, f in zip(self.base_lrs, self._lr_lambdas)]

    def state_dict(self):
        state = super().state_dict()
        del state["_lr_lambdas"]
        return state


class _TimeConstantLR(ClosedFormLR):
    """A decay whose one argument is a time constant C > 0 (steps before it bites)."""

    def __init__(self, optimizer, C, last_epoch=-1):
        self.C = C
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(self.C > 0, "C", self.C, "C > 0")


class InverseTimeLR(_TimeConstantLR):
    """InverseTimeLR(optimizer, C, last_epoch=-1): the lecture notes' ``1/(C+t)`` decay,
    scaled to start at lr₀: ``lr_t = lr₀ · C / (C + t)``. The rate halves after C steps;
    its sum diverges while the sum of its squares converges (the Robbins–Monro conditions)."""

    def _lr(self, base_lr, t):
        return base_lr * self.C / (self.C + t)


class InverseSqrtLR(_TimeConstantLR):
    """InverseSqrtLR(optimizer, C, last_epoch=-1): ``1/√t`` decay that starts at lr₀,
    ``lr_t = lr₀ / √(1 + t/C)`` (≈ lr₀·√C/√t once t ≫ C; C sets where the decay begins)."""

    def _lr(self, base_lr, t):
        return base_lr / math.sqrt(1 + t / self.C)


class CosineAnnealingLR(ClosedFormLR):
    """CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1): half a cosine from
    lr₀ down to ``eta_min`` over ``T_max`` steps,
    ``lr_t = η_min + (lr₀ − η_min)(1 + cos(π t / T_max)) / 2`` (PyTorch's closed form; past
    T_max it climbs back, with period 2·T_max)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(_is_count(self.T_max, 1), "T_max", self.T_max, "an integer >= 1")
        self._require(self.eta_min >= 0, "eta_min", self.eta_min, "eta_min >= 0")

    def _lr(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearWarmup(ClosedFormLR):
    """LinearWarmup(optimizer, warmup_steps, start_factor=1/3, after=None, last_epoch=-1):
    ramp the rate linearly from ``start_factor·lr₀`` up to lr₀ over ``warmup_steps`` steps,

        lr_t = lr₀ · (s + (1 − s) · t / W)     for t < W   (s = start_factor, W = warmup_steps)

    then hand over to ``after``, a closed-form schedule made on the same optimizer, run
    from its own step 0 (``lr_t = after.lr_at(t − W)``), or keep lr₀ when ``after`` is None.
    Only this wrapper's ``step()`` is called; it drives ``after``. The warm-up alone equals
    PyTorch's ``LinearLR(start_factor, 1.0, total_iters=W)``, and with ``after`` their
    ``SequentialLR([LinearLR, after], milestones=[W])``."""

    def __init__(self, optimizer, warmup_steps, start_factor=1 / 3, after=None, last_epoch=-1):
        if after is not None and (not isinstance(after, ClosedFormLR) or after.optimizer is not optimizer):
            raise TypeError(f"{self._name}: after= must be a closed-form schedule (StepLR, "
                            f"InverseTimeLR, InverseSqrtLR, CosineAnnealingLR, …) made on the same "
                            f"optimizer, got {type(after).__name__}")
        self.warmup_steps, self.start_factor, self.after = warmup_steps, start_factor, after
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(_is_count(self.warmup_steps, 1), "warmup_steps", self.warmup_steps,
                      "an integer >= 1")
        self._require(0 < self.start_factor <= 1, "start_factor", self.start_factor,
                      "0 < start_factor <= 1")

    def lr_at(self, t):
        if t < self.warmup_steps or self.after is None:
            fraction = min(t, self.warmup_steps) / self.warmup_steps
            return [base_lr * (self.start_factor + (1 - self.start_factor) * fraction)
                    for base_lr in self.base_lrs]
        return self.after.lr_at(t - self.warmup_steps)

    def step(self):
        super().step()
        if self.after is not None and self.last_epoch >= self.warmup_steps:
            # keep the inner schedule's own record in step with what was set
            self.after.last_epoch = self.last_epoch - self.warmup_steps
            self.after._last_lr = list(self._last_lr)


class ReduceLROnPlateau(LRScheduler):
    """ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
    threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8): PyTorch's rule.

    ``step(metric)`` once per epoch. The metric improves on the best so far when it is
    below ``best·(1 − threshold)`` (mode "min", threshold_mode "rel"), below
    ``best − threshold`` ("abs"), or above ``best·(1 + threshold)`` / ``best + threshold``
    in mode "max". After more than ``patience`` epochs without improvement each group's
    rate becomes ``max(lr·factor, min_lr)`` (skipped when that changes it by ``eps`` or
    less), and the count restarts after ``cooldown`` epochs in which bad epochs are not
    counted. ``min_lr``: one number, or one per parameter group.
    """
    needs_metric = True

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        self._attach(optimizer)
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"{self._name}: invalid min_lr={min_lr!r}: expected one number or "
                                 f"{groups} (one per parameter group)")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * groups
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        self._check_arguments()
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _check_arguments(self):
        self._require(self.mode in ("min", "max"), "mode", self.mode, "'min' or 'max'")
        self._require(self.threshold_mode in ("rel", "abs"), "threshold_mode",
                      self.threshold_mode, "'rel' or 'abs'")
        self._require(0 < self.factor < 1, "factor", self.factor, "0 < factor < 1")
        self._require(_is_count(self.patience, 0), "patience", self.patience, "an integer >= 0")
        self._require(_is_count(self.cooldown, 0), "cooldown", self.cooldown, "an integer >= 0")
        self._require(self.threshold >= 0, "threshold", self.threshold, "threshold >= 0")
        self._require(self.eps >= 0, "eps", self.eps, "eps >= 0")
        self._require(all(m >= 0 for m in self.min_lrs), "min_lr", self.min_lrs, "min_lr >= 0")

    def _is_better(self, metric):
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return metric < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return metric > bar

    def step(self, metrics):
        """Record one epoch's metric (a number or a one-element Tensor/array)."""
        metric = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self._is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class CosineAnnealingWarmRestarts(ClosedFormLR):
    """CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1): SGDR's
    cosine that restarts at lr₀ (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", ICLR 2017, eq. (5)), ``lr_t = η_min + (lr₀ − η_min)(1 + cos(π T_cur / T_i)) / 2``,
    where T_cur counts the steps since the last restart and the i-th run lasts T_i = T_0 · T_multⁱ."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        super().__init__(optimizer, last_epoch)

    def _check_arguments(self):
        self._require(_is_count(self.T_0, 1), "T_0", self.T_0, "a positive integer")
        self._require(_is_count(self.T_mult, 1), "T_mult", self.T_mult, "an integer >= 1")
        self._require(isinstance(self.eta_min, (int, float)) and not isinstance(self.eta_min, bool), "eta_min",
                      self.eta_min, "a float or int")

    def _lr(self, base_lr, t):
        t_cur, t_i = t, self.T_0  # walk the runs in integers, as PyTorch's steps do: no rounding at a restart
        while t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * self.T_mult
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


class OneCycleLR(ClosedFormLR):
    """OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
    pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
    max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
    the 1cycle policy (Smith & Topin, "Super-Convergence", 2018), as torch's. The rate climbs
    from lr₀ = max_lr / div_factor to max_lr over the first ``pct_start`` of ``total_steps``,
    then anneals to lr₀ / final_div_factor (with ``three_phase``: back down to lr₀ over as
    many steps, then to the minimum). Momentum (SGD's ``momentum``, or β₁ of Adam's family)
    moves the other way, between ``max_momentum`` and ``base_momentum``. Call step() after
    every batch; the schedule holds ``total_steps`` steps. ``max_lr`` and the momenta may be
    lists, one per parameter group."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        self._attach(optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{self._name}: define either total_steps or (epochs and steps_per_epoch)")
            self._require(_is_count(epochs, 1), "epochs", epochs, "a positive integer")
            self._require(_is_count(steps_per_epoch, 1), "steps_per_epoch", steps_per_epoch, "a positive integer")
            total_steps = epochs * steps_per_epoch
        self.total_steps, self.pct_start, self.anneal_strategy = total_steps, pct_start, anneal_strategy
        self.div_factor, self.final_div_factor, self.three_phase = div_factor, final_div_factor, three_phase
        self.cycle_momentum = cycle_momentum
        self.max_lrs = self._per_group("max_lr", max_lr)
        if cycle_momentum and "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(f"{self._name}: optimizer must support momentum or beta1 with `cycle_momentum` "
                             f"option enabled ({type(optimizer).__name__} has neither)")
        self.max_momentums = self._per_group("max_momentum", max_momentum)
        self.base_momentums = self._per_group("base_momentum", base_momentum)
        self._check_arguments()
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, self.max_lrs):
                group["initial_lr"] = top / div_factor  # lr₀, where the cycle starts
        super().__init__(optimizer, last_epoch)

    def _per_group(self, name, value):
        groups = len(self.optimizer.param_groups)
        if isinstance(value, (list, tuple)):
            if len(value) != groups:
                raise ValueError(f"{self._name}: expected {groups} values for {name}, got {len(value)}")
            return list(value)
        return [value] * groups

    def _check_arguments(self):
        self._require(_is_count(self.total_steps, 1), "total_steps", self.total_steps, "a positive integer")
        self._require(isinstance(self.pct_start, float) and 0 <= self.pct_start <= 1, "pct_start",
                      self.pct_start, "a float between 0 and 1")
        self._require(self.anneal_strategy in ("cos", "linear"), "anneal_strategy", self.anneal_strategy,
                      "'cos' or 'linear'")

    def _phases(self):
        """(last step, start, end) of each phase, the ends as (lr, momentum) names: torch's table."""
        rise = float(self.pct_start * self.total_steps) - 1
        if self.three_phase:
            return [(rise, ("initial", "max_m"), ("max", "base_m")),
                    (float(2 * self.pct_start * self.total_steps) - 2, ("max", "base_m"), ("initial", "max_m")),
                    (self.total_steps - 1, ("initial", "max_m"), ("min", "max_m"))]
        return [(rise, ("initial", "max_m"), ("max", "base_m")),
                (self.total_steps - 1, ("max", "base_m"), ("min", "max_m"))]

    def _anneal(self, start, end, fraction):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def _values_at(self, t):
        """Per group, (lr, momentum) at step t: the phase holding t, annealed across it."""
        if t > self.total_steps:
            raise ValueError(f"{self._name}: tried to step {t} times; the specified number of total steps "
                             f"is {self.total_steps}")
        values = []
        for base_lr, top, max_m, base_m in zip(self.base_lrs, self.max_lrs, self.max_momentums,
                                               self.base_momentums):
            named = {"initial": base_lr, "max": top, "min": base_lr / self.final_div_factor,
                     "max_m": max_m, "base_m": base_m}
            phases, start_step = self._phases(), 0.0
            for i, (end_step, start, end) in enumerate(phases):
                if t <= end_step or i == len(phases) - 1:
                    fraction = (t - start_step) / (end_step - start_step)
                    values.append(tuple(self._anneal(named[s], named[e], fraction) for s, e in zip(start, end)))
                    break
                start_step = end_step
        return values

    def lr_at(self, t):
        return [lr for lr, _ in self._values_at(t)]

    def step(self):
        super().step()
        if self.cycle_momentum:
            for group, (_, momentum) in zip(self.optimizer.param_groups, self._values_at(self.last_epoch)):
                if "betas" in self.optimizer.defaults:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
