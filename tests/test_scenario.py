"""Loading scenarios and supplier profiles: the shipped files, their figures, and one clear
error naming the file, the key and the problem for a bad one.

Bad files are made by editing a shipped file's text, so these tests follow the seeds as
they change: each edit first checks that the key it changes is still there.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.scenario import Scenario, Supplier, available_scenarios, available_suppliers, default_device_params, load_scenario, load_supplier
from sim.seeds import ParamsError, seeds_dir

SCENARIOS = seeds_dir() / "scenarios"
SUPPLIERS = seeds_dir() / "suppliers"
SMOKE = (SCENARIOS / "smoke.toml").read_text()
SUPPLIER_A = (SUPPLIERS / "supplier-a.toml").read_text()

# DOMAIN.md "Caseload": 26,647 monitored at end Sep 2025 (House of Lords committee letter);
# +22,000 a year planned; the near doubling; and four times today for the stress test.
CASELOADS = {"baseline": 26_647, "projected": 26_647 + 22_000, "doubled": 2 * 26_647, "stress": 4 * 26_647}

# Makers named in DOMAIN.md: a supplier profile is generic, never one of these.
BRANDS = ("serco", "auem", "g4s", "buddi", "scram", "bi incorporated", "attenti", "3m", "supercom", "geosatis",
          "track group", "strategic technologies", "securealert", "isecuretrac")


# --- editing TOML text -------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*(#.*)?$")


def _sections(text: str) -> list[str | None]:
    """The table each line belongs to (None: the top level)."""
    current: str | None = None
    out: list[str | None] = []
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match:
            current = match.group(1).strip()
        out.append(current)
    return out


def set_key(text: str, section: str | None, key: str, value: str | None) -> str:
    """``key = value`` in ``[section]`` (None: the top level); value None removes the line."""
    lines = text.splitlines()
    hits = [i for i, (line, sec) in enumerate(zip(lines, _sections(text))) if sec == section and re.match(rf"{re.escape(key)}\s*=", line)]
    assert len(hits) == 1, f"the shipped file no longer has {key!r} in [{section}]"
    if value is None:
        del lines[hits[0]]
    else:
        lines[hits[0]] = f"{key} = {value}"
    return "\n".join(lines) + "\n"


def add_key(text: str, section: str | None, line: str) -> str:
    """Add a line at the top of ``[section]`` (None: the top of the file)."""
    lines = text.splitlines()
    if section is None:
        at = 0
    else:
        heads = [i for i, line_ in enumerate(lines) if (m := _HEADER.match(line_)) and m.group(1).strip() == section]
        assert len(heads) == 1, f"the shipped file no longer has [{section}]"
        at = heads[0] + 1
    lines.insert(at, line)
    return "\n".join(lines) + "\n"


def edited(tmp_path: Path, text: str, edits: list[tuple[str | None, str, str | None]]) -> Path:
    for section, key, value in edits:
        text = set_key(text, section, key, value)
    path = tmp_path / "edited.toml"
    path.write_text(text)
    return path


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# --- the shipped files ---------------------------------------------------------------------


def test_the_shipped_scenarios_and_suppliers_are_listed() -> None:
    assert available_scenarios() == ["baseline", "doubled", "projected", "smoke", "stress"]
    assert available_suppliers() == ["supplier-a", "supplier-b", "supplier-c"]


@pytest.mark.parametrize("name", ["baseline", "doubled", "projected", "smoke", "stress"])
def test_every_shipped_scenario_loads_with_its_supplier(name: str) -> None:
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert scenario.name == name
    assert isinstance(load_supplier(scenario.supplier), Supplier)


@pytest.mark.parametrize(("name", "subjects"), sorted(CASELOADS.items()))
def test_caseload_scenarios_have_the_published_counts_for_a_week(name: str, subjects: int) -> None:
    scenario = load_scenario(name)
    assert scenario.subjects == subjects
    assert scenario.days == 7.0


def test_the_published_counts_are_the_ones_domain_md_gives() -> None:
    assert CASELOADS == {"baseline": 26_647, "projected": 48_647, "doubled": 53_294, "stress": 106_588}


def test_smoke_is_small_and_short_with_a_fixed_seed() -> None:
    smoke = load_scenario("smoke")
    assert smoke.subjects <= 1_000
    assert smoke.days <= 2
    assert (smoke.seed, smoke.supplier) == (1, "supplier-a")
    # Scaled down, it still keeps areas full enough for the outage rule (about 130 an area).
    assert 50 <= smoke.subjects / smoke.town.areas <= 250
    assert smoke.faults.regional_outage_areas <= smoke.town.areas


@pytest.mark.parametrize("name", ["baseline", "doubled", "projected", "smoke", "stress"])
def test_shipped_scenario_figures_are_in_range(name: str) -> None:
    s = load_scenario(name)
    # June 2025 device mix (gov.uk EM management information): shares sum past 1.
    assert (s.devices.gps, s.devices.rf, s.devices.alcohol) == (0.51, 0.34, 0.18)
    # Curfews of 2 to 16 h (CJA 2003 s.204), the 12 h overnight curfew the commonest, in the evening.
    assert all(2 <= h <= 16 for h in s.curfew.hours)
    assert s.curfew.hours[s.curfew.hours_weights.index(max(s.curfew.hours_weights))] == 12
    evening = sum(w for h, w in zip(s.curfew.start_hours, s.curfew.start_weights) if 19 <= h <= 21)
    assert evening / sum(s.curfew.start_weights) > 0.5
    # A town east of Greenwich, in England.
    assert 50 < s.town.lat < 56 and 0 <= s.town.lon < 2
    assert s.town.radius_m > 0 and s.zones.home_radius_m > 0
    # About 2.7% of alcohol-tag days non-compliant (97.3% compliant, gov.uk Dec 2024), from
    # the drinkers' episodes that cross the threshold and are detected, by their peak (NHTSA
    # 2007), over the lognormal peaks the world draws.
    supplier = load_supplier(s.supplier)
    z = np.linspace(-8.0, 8.0, 16_001)
    weight = np.exp(-z * z / 2) / np.exp(-z * z / 2).sum()
    peaks = s.behaviour.peak_tac_mg_dl_median * np.exp(s.behaviour.duration_sigma * z)
    over = peaks > supplier.devices.alcohol_tag.tac_threshold_mg_dl
    detected = float(np.sum(weight * over * supplier.alcohol.detection_share(peaks)))
    non_compliant_days = s.behaviour.drinker * s.behaviour.drinking_episodes_per_week / 7 * detected
    assert non_compliant_days == pytest.approx(1 - 0.973, abs=0.002)
    # Everyone breaking a rule is a minority.
    for share in (s.behaviour.late_returner, s.behaviour.night_misser, s.behaviour.strap_remover,
                  s.behaviour.zone_enterer, s.behaviour.drinker, s.behaviour.non_charger):
        assert 0 < share < 0.5
    assert 0 < s.network.loss < 0.1


def test_shipped_scenarios_differ_only_in_size_name_and_seed() -> None:
    """The five files are complete copies; this keeps the shared figures from drifting apart."""
    allowed = {"name", "description", "subjects", "days", "seed", "town.areas"}
    tables = {p.stem: _flat(tomllib.loads(p.read_text())) for p in sorted(SCENARIOS.glob("*.toml"))}
    reference = tables["baseline"]
    for name, table in tables.items():
        assert set(table) == set(reference), name
        differing = {key for key in table if table[key] != reference[key]}
        assert differing <= allowed, f"{name} differs from baseline in {sorted(differing - allowed)}"
    # The caseload scenarios are one country and one network: even the areas agree; only smoke scales down.
    assert {tables[name]["town.areas"] for name in CASELOADS} == {reference["town.areas"]}
    assert len({table["subjects"] for table in tables.values()}) == len(tables)


def test_suppliers_span_the_published_gps_ranges() -> None:
    a, b = load_supplier("supplier-a"), load_supplier("supplier-b")
    # "Upload every 10 min (California programme) to every hour (Attenti)".
    assert {a.devices.gps_tag.upload_interval_s, b.devices.gps_tag.upload_interval_s} == {600.0, 3600.0}
    # "Battery 12 to 72 h depending on make" (gov.uk/electronic-tags).
    assert {a.devices.gps_tag.battery_life_hours, b.devices.gps_tag.battery_life_hours} == {12.0, 72.0}
    for supplier in (a, b):
        assert supplier.gps.outdoor_cep90_m == 10.0  # NIJ draft standard
        assert supplier.gps.indoor_cep90_m > supplier.gps.outdoor_cep90_m  # "much worse indoors"
        assert 0 < supplier.gps.indoor_fix_share < 1  # "no fix indoors is common"
        # NHTSA 2007: 57% of episodes at the 0.02 g/dl threshold, 88% at 0.08 g/dl or more.
        a = supplier.alcohol
        assert (a.detection_low_peak_mg_dl, a.detection_low_share) == (supplier.devices.alcohol_tag.tac_threshold_mg_dl, 0.57)
        assert (a.detection_high_peak_mg_dl, a.detection_high_share) == (80.0, 0.88)
        assert 0 < supplier.faults.install_fault_share <= 0.01
        assert supplier.faults.false_tampers_per_device_year > 0


@pytest.mark.parametrize("name", ["supplier-a", "supplier-b", "supplier-c"])
def test_a_supplier_overrides_only_the_keys_it_names(name: str) -> None:
    supplier = load_supplier(name)
    overrides = tomllib.loads((SUPPLIERS / f"{name}.toml").read_text()).get("devices", {})
    assert overrides, "a supplier profile differs from the defaults somewhere"
    expected = dataclasses.asdict(default_device_params())
    for section, values in overrides.items():
        expected[section].update(values)
    assert dataclasses.asdict(supplier.devices) == expected


@pytest.mark.parametrize("name", ["supplier-a", "supplier-b", "supplier-c"])
def test_supplier_names_are_generic(name: str) -> None:
    supplier = load_supplier(name)
    assert supplier.name == name
    words = f"{supplier.name} {supplier.description}".lower()
    assert not [brand for brand in BRANDS if re.search(rf"\b{re.escape(brand)}\b", words)]


def _rf_figures(supplier: Supplier) -> tuple[float, float]:
    """Share of beacons missed at home, and subject-days between runs of misses long enough
    to pass the base unit's leave time (a false "tag gone"), from the Gilbert-Elliott chain."""
    ch, rf = supplier.rf_channel, supplier.devices.rf_tag
    interval = (rf.beacon_interval_min_s + rf.beacon_interval_max_s) / 2
    run = int(supplier.devices.base_unit.leave_time_s // interval)  # 300 s at 13 s: 23 beacons
    bad = ch.good_to_bad / (ch.good_to_bad + ch.bad_to_good)
    missed = (1 - bad) * ch.loss_good + bad * ch.loss_bad
    # P(a beacon heard, then `run` missed in a row): the start of one long gap.
    good, badp = (1 - bad) * (1 - ch.loss_good), bad * (1 - ch.loss_bad)
    for _ in range(run):
        good, badp = ((good * (1 - ch.good_to_bad) + badp * ch.bad_to_good) * ch.loss_good,
                      (good * ch.good_to_bad + badp * (1 - ch.bad_to_good)) * ch.loss_bad)
    per_day = (good + badp) * 86_400 / interval
    return missed, 1 / per_day


@pytest.mark.parametrize("name", ["supplier-a", "supplier-b", "supplier-c"])
def test_rf_channel_misses_a_few_percent_and_a_leave_time_now_and_then(name: str) -> None:
    missed, days_between = _rf_figures(load_supplier(name))
    assert 0.01 <= missed <= 0.03
    assert 5 <= days_between <= 20


def test_supplier_c_lies_between_a_and_b() -> None:
    a, b, c = (load_supplier(n) for n in ("supplier-a", "supplier-b", "supplier-c"))
    for figure in (lambda s: s.devices.gps_tag.upload_interval_s, lambda s: -s.devices.gps_tag.battery_life_hours,
                   lambda s: _rf_figures(s)[0], lambda s: s.gps.indoor_cep90_m, lambda s: s.gps.indoor_fallback_share,
                   lambda s: s.faults.false_tampers_per_device_year, lambda s: s.faults.install_fault_share,
                   lambda s: s.faults.reboots_per_device_year, lambda s: s.faults.clock_drift_ppm_sd):
        assert figure(a) < figure(c) < figure(b)


def test_supplier_b_has_the_worse_rf_channel() -> None:
    a, b = (_rf_figures(load_supplier(n)) for n in ("supplier-a", "supplier-b"))
    assert b[0] > a[0] and b[1] < a[1]


def test_with_changes_keeps_the_rest_and_still_checks() -> None:
    baseline = load_scenario("baseline")
    small = baseline.with_changes(subjects=10, supplier="supplier-b")
    assert (small.subjects, small.supplier) == (10, "supplier-b")
    assert dataclasses.replace(small, subjects=baseline.subjects, supplier=baseline.supplier) == baseline
    with pytest.raises(ValueError, match="days"):
        baseline.with_changes(days=0.0)


# --- bad scenario files ---------------------------------------------------------------------


def test_an_unedited_copy_loads_the_same(tmp_path: Path) -> None:
    """The starting point of every edit below is a good file: each failure is the edit's."""
    path = tmp_path / "copy.toml"
    path.write_text(SMOKE)
    assert load_scenario(str(path)) == load_scenario("smoke")


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([(None, "subjects", '"many"')], r"subjects: expected a whole number, got 'many'"),
        ([("town", "areas", "4.5")], r"town: areas: expected a whole number, got 4\.5"),
        ([("behaviour", "late_nights_per_week", "-1.0")], r"behaviour: late_nights_per_week: must not be negative, got -1\.0"),
        ([("faults", "outages_per_area_year", "-2")], r"faults: outages_per_area_year: must not be negative"),
        ([("network", "loss", "nan")], r"network: loss: expected a finite number, got nan"),
        ([(None, "days", "inf")], r"days: expected a finite number, got inf"),
        ([(None, "supplier", '"supplier-z"')], r"supplier: unknown supplier 'supplier-z' \(choose from supplier-a, supplier-b, supplier-c\)"),
        ([("devices", "gps", "1.2")], r"devices: gps: a share must be between 0 and 1, got 1\.2"),
        ([("network", "loss", "1.5")], r"network: loss: a share must be between 0 and 1, got 1\.5"),
        ([("behaviour", "drinker", "2.0")], r"behaviour: drinker: a share must be between 0 and 1"),
        ([("devices", "gps", "0.1"), ("devices", "rf", "0.1"), ("devices", "alcohol", "0.1")], r"devices: the device shares must cover every subject"),
        ([("curfew", "hours", "[20.0]"), ("curfew", "hours_weights", "[1.0]")], r"curfew: hours: a curfew lasts 2 to 16 hours"),
        ([("curfew", "hours", "[1.0]"), ("curfew", "hours_weights", "[1.0]")], r"curfew: hours: a curfew lasts 2 to 16 hours"),
        ([("curfew", "hours_weights", "[1.0]")], r"curfew: hours and its weights must be non-empty lists of the same length"),
        ([("curfew", "start_hours", "[24.0, 19.0, 20.0, 21.0, 22.0]")], r"curfew: start_hours: an hour of the day"),
        ([("curfew", "hours", "12.0")], r"curfew: hours: expected a list, got 12\.0"),
        ([(None, "days", "0")], r"days: must be more than 0"),
        ([(None, "days", "0.0")], r"days: must be more than 0"),
        ([(None, "subjects", "0")], r"subjects: at least one"),
        ([("town", "areas", "0")], r"town: areas: at least one cellular area"),
        ([("zones", "exclusion_min", "9")], r"zones: exclusion_min must not exceed exclusion_max"),
        ([("routine", "leave_after_curfew_h_min", "9.0")], r"routine: leave_after_curfew_h_min must not exceed leave_after_curfew_h_max"),
        ([("faults", "regional_outage_areas", "999")], r"faults: regional_outage_areas \(999\) exceeds town: areas"),
        ([("routine", "tours_per_day_weights", "[1.0]")], r"routine: tours_per_day and tours_per_day_weights must be lists of the same"),
        ([("routine", "tours_per_day", "[0, 2, 3]")], r"routine: tours_per_day: each must be at least 1"),
        ([("charging", "evening_hours", "[18.0, 25.0, 20.0, 21.0, 22.0]")], r"charging: evening_hours: each must be an hour of the day"),
        ([("charging", "evening_weights", "[1.0]")], r"charging: evening_hours and evening_weights must be lists of the same"),
        ([("charging", "min_hours_a_day", "0.0")], r"charging: min_hours_a_day: must be more than 0"),
        ([("charging", "within_h", "0.0")], r"charging: within_h: must be more than 0"),
        ([("town", "radius_m", None)], r"town: missing key 'radius_m'"),
        ([(None, "seed", None)], r"missing key 'seed'"),
    ],
    ids=["wrong-type", "wrong-type-nested", "negative-rate", "negative-int-rate", "nan", "infinite-days", "unknown-supplier",
         "share-above-1", "link-share-above-1", "behaviour-share-above-1", "mix-below-everyone", "curfew-20h",
         "curfew-1h", "weights-length", "start-hour-24", "list-expected", "days-0", "days-0.0", "no-subjects",
         "no-areas", "zone-min-over-max", "routine-min-over-max", "regional-outage-too-wide", "tours-weights-length", "zero-tours",
         "charge-hour-25", "charge-weights-length", "charge-min-0", "charge-within-0", "missing-nested-key",
         "missing-top-key"],
)
def test_a_bad_scenario_is_one_error_naming_file_key_and_problem(
    tmp_path: Path, edits: list[tuple[str | None, str, str | None]], message: str
) -> None:
    path = edited(tmp_path, SMOKE, edits)
    with pytest.raises(ParamsError, match=message) as info:
        load_scenario(str(path))
    text = str(info.value)
    assert text.startswith(str(path)), text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("section", "line", "message"),
    [
        (None, "subject = 5", r": unknown key 'subject' \(known: "),
        ("network", "jitter_s = 1.0", r": network: unknown key 'jitter_s' \(known: corrupt, duplicate, "),
        ("behaviour", "drinkers = 0.2", r": behaviour: unknown key 'drinkers'"),
    ],
    ids=["top-level", "nested-link", "nested-behaviour"],
)
def test_an_unknown_scenario_key_is_named_with_its_table(tmp_path: Path, section: str | None, line: str, message: str) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(add_key(SMOKE, section, line))
    with pytest.raises(ParamsError, match=message) as info:
        load_scenario(str(path))
    assert str(info.value).startswith(str(path))


def test_a_truncated_scenario_is_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "cut.toml"
    path.write_text(SMOKE[: len(SMOKE) // 2] + '\nname = "')
    with pytest.raises(ParamsError, match="not valid TOML") as info:
        load_scenario(str(path))
    assert str(info.value).startswith(str(path))


def test_a_scenario_section_that_is_not_a_table(tmp_path: Path) -> None:
    lines = [line for line, section in zip(SMOKE.splitlines(), _sections(SMOKE)) if section != "devices"]
    assert len(lines) < len(SMOKE.splitlines())
    path = tmp_path / "flat.toml"
    path.write_text(add_key("\n".join(lines), None, "devices = 3"))
    with pytest.raises(ParamsError, match=r"devices: expected a table, got int"):
        load_scenario(str(path))


def test_an_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ParamsError, match=r"unknown scenario 'busy' \(choose from baseline, doubled, projected, smoke, stress\)"):
        load_scenario("busy")


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ParamsError, match="no such file") as info:
        load_scenario(str(path))
    assert str(path) in str(info.value)


# --- bad supplier files ----------------------------------------------------------------------


def test_an_unknown_supplier_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ParamsError, match=r"unknown supplier 'supplier-z' \(choose from supplier-a, supplier-b, supplier-c\)"):
        load_supplier("supplier-z")


def test_an_unedited_supplier_copy_loads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "copy.toml"
    path.write_text(SUPPLIER_A)
    assert load_supplier(str(path)) == load_supplier("supplier-a")


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([("devices.gps_tag", "upload_interval_s", '"hourly"')], r"\[devices\] \[gps_tag\]: upload_interval_s: expected a number, got 'hourly'"),
        ([("devices.gps_tag", "battery_life_hours", "-12.0")], r"\[devices\] \[gps_tag\]: battery_life_hours: must not be negative"),
        ([("rf_channel", "bad_to_good", "0.0")], r"rf_channel: bad_to_good: must be more than 0"),
        ([("rf_channel", "loss_bad", "1.5")], r"rf_channel: loss_bad: a share must be between 0 and 1, got 1\.5"),
        ([("gps", "indoor_fix_share", "2")], r"gps: indoor_fix_share: a share must be between 0 and 1"),
        ([("alcohol", "detection_high_share", "1.01")], r"alcohol: detection_high_share: a share must be between 0 and 1"),
        ([("alcohol", "detection_high_peak_mg_dl", "20.0")],
         r"alcohol: detection_low_peak_mg_dl must be below detection_high_peak_mg_dl"),
        ([("faults", "install_fault_share", "7")], r"faults: install_fault_share: a share must be between 0 and 1"),
        ([("faults", "reboots_per_device_year", "-1.0")], r"faults: reboots_per_device_year: must not be negative"),
        ([("gps", "outdoor_cep90_m", '"ten"')], r"gps: outdoor_cep90_m: expected a number"),
        ([("alcohol", "detection_low_share", None)], r"alcohol: missing key 'detection_low_share'"),
        ([(None, "description", None)], r"missing key 'description'"),
    ],
    ids=["override-wrong-type", "override-negative", "channel-never-recovers", "channel-share-above-1",
         "gps-share-above-1", "alcohol-share-above-1", "alcohol-peaks-reversed", "install-share-above-1", "negative-rate", "gps-wrong-type",
         "missing-nested-key", "missing-top-key"],
)
def test_a_bad_supplier_is_one_error_naming_file_key_and_problem(
    tmp_path: Path, edits: list[tuple[str | None, str, str | None]], message: str
) -> None:
    path = edited(tmp_path, SUPPLIER_A, edits)
    with pytest.raises(ParamsError, match=message) as info:
        load_supplier(str(path))
    text = str(info.value)
    assert text.startswith(str(path)), text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SUPPLIER_A + "\n[devices.gps_tagg]\nupload_interval_s = 60.0\n",
         r": unknown section \[devices\.gps_tagg\] \(known: uplink, rf_tag, base_unit, gps_tag, gnss, alcohol_tag\)"),
        (add_key(SUPPLIER_A, "devices.gps_tag", "upload_every_s = 60.0"),
         r" \[devices\.gps_tag\]: unknown key 'upload_every_s' \(known: battery_life_hours, "),
        (SUPPLIER_A + "\n[devices.rf_tag]\nbeacon_period_s = 13.0\n", r" \[devices\.rf_tag\]: unknown key 'beacon_period_s'"),
        (add_key(SUPPLIER_A, None, 'nmae = "x"'), r": unknown key 'nmae' \(known: devices, alcohol, "),
        (add_key(SUPPLIER_A, "faults", "false_alarms_per_year = 1.0"), r": faults: unknown key 'false_alarms_per_year'"),
        (add_key(SUPPLIER_A, None, "devices = 3").replace("[devices.gps_tag]", "[other]", 1), r": \[devices\] must be a table"),
        (SUPPLIER_A[: len(SUPPLIER_A) // 2] + '\nname = "', r": not valid TOML"),
    ],
    ids=["unknown-device-section", "unknown-device-key", "unknown-device-key-new-section", "unknown-top-key",
         "unknown-nested-key", "devices-not-a-table", "truncated"],
)
def test_a_supplier_with_an_unknown_key_or_broken_text_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ParamsError, match=message) as info:
        load_supplier(str(path))
    assert str(info.value).startswith(str(path))
