"""Field-level access to the timeline: the fields a contract keeps for its owner are shown only to readers
with the owner's read scope. A misspelt or renamed field would silently be shown to everyone, so the
contracts' declarations are checked against their fields."""

from __future__ import annotations

from history.domain.need_to_know import owner_read_scope, visible_data
from shared.auth import AGENCY_SCOPES
from shared.contracts import ALL_EVENTS
from shared.contracts.procedure import HearingHeld, ReceptionStreamDetermined
from tests.helpers import build_event


def test_every_owner_only_field_is_a_field_of_its_contract() -> None:
    for model in ALL_EVENTS:
        assert set(model.owner_only_fields) <= set(model.model_fields), model.type_name


def test_the_owner_of_every_fact_has_a_read_scope_some_agency_holds() -> None:
    held = {scope for scopes in AGENCY_SCOPES.values() for scope in scopes}
    assert {owner_read_scope(model.type_name) for model in ALL_EVENTS} <= held
    assert owner_read_scope(HearingHeld.type_name) == "procedure:read"


def test_the_inds_ground_and_hearing_details_are_its_own() -> None:
    assert "ground" in ReceptionStreamDetermined.owner_only_fields
    assert {"kind", "site", "ind_office"} <= set(HearingHeld.owner_only_fields)


def test_a_reader_without_the_owners_scope_gets_the_fact_without_those_fields() -> None:
    # given a hearing fact as the read side stores it
    hearing = build_event(HearingHeld)
    data = hearing.data()
    # when COA (placement and history scopes) and the IND read it
    for_coa = visible_data(HearingHeld.type_name, data, HearingHeld.owner_only_fields, AGENCY_SCOPES["COA"])
    for_ind = visible_data(HearingHeld.type_name, data, HearingHeld.owner_only_fields, AGENCY_SCOPES["IND"])
    # then COA sees that a hearing was held, and when, but not which or where; the IND sees it whole
    assert set(data) - set(for_coa) == {"kind", "site", "ind_office"}
    assert (
        for_coa["occurred_at"] == data["occurred_at"] and for_coa["application_id"] == data["application_id"]
    )
    assert for_ind == data
