# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The French translation is complete, well-formed, and loads into Odoo.

``TestFrenchPoFiles`` only parses the PO files (a ``BaseCase``: no
database); the TransactionCase loads ``i18n/fr.po`` into the database and
reads labels back.
"""

import os
import re

import polib

from odoo.tests import BaseCase, TransactionCase, tagged

# The tests run through a symlinked addons path: resolve the real module dir.
I18N_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "i18n"
)
POT_PATH = os.path.join(I18N_DIR, "subscription_billing.pot")
FR_PATH = os.path.join(I18N_DIR, "fr.po")

# Python interpolation: %(name)s and positional %s (also %d, %r, %f).
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdrf]|%[sdrf]")


def _pot():
    return polib.pofile(POT_PATH)


def _fr():
    return polib.pofile(FR_PATH)


class TestFrenchPoFiles(BaseCase):
    def test_fr_po_header(self):
        fr = _fr()
        assert fr.metadata.get("Language") == "fr"
        assert "charset=UTF-8" in fr.metadata.get("Content-Type", "")
        assert fr.metadata.get("Plural-Forms") == "nplurals=2; plural=(n > 1);"

    def test_every_pot_msgid_is_translated_in_fr(self):
        fr = {entry.msgid: entry for entry in _fr()}
        pot = _pot()
        assert len(pot) > 0
        missing = [e.msgid for e in pot if e.msgid not in fr]
        empty = [
            e.msgid for e in pot if e.msgid in fr and not fr[e.msgid].msgstr.strip()
        ]
        assert not missing, f"msgids missing from fr.po: {missing}"
        assert not empty, f"msgids with an empty French msgstr: {empty}"

    def test_fr_po_has_no_fuzzy_or_obsolete_entries(self):
        fr = _fr()
        assert not [e.msgid for e in fr.fuzzy_entries()]
        assert not [e.msgid for e in fr.obsolete_entries()]

    def test_fr_po_placeholders_match(self):
        def placeholders(text):
            return sorted(PLACEHOLDER.findall(text))

        mismatches = [
            (e.msgid, e.msgstr)
            for e in _fr()
            if e.msgstr and placeholders(e.msgid) != placeholders(e.msgstr)
        ]
        assert not mismatches, f"placeholders differ in msgid and msgstr: {mismatches}"


@tagged("post_install", "-at_install")
class TestFrenchTranslation(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["subscription_billing"], ["fr_FR"], overwrite=True
        )
        cls.env_fr = cls.env(context=dict(cls.env.context, lang="fr_FR"))

    def test_subscription_state_labels(self):
        field = self.env_fr["subscription.subscription"].fields_get(["state"])["state"]
        self.assertEqual(field["string"], "État")
        self.assertEqual(
            dict(field["selection"]),
            {
                "draft": "Brouillon",
                "trial": "Essai",
                "active": "Actif",
                "paused": "En pause",
                "suspended": "Suspendu pour impayé",
                "closed": "Clôturé",
            },
        )

    def test_plan_billing_timing_labels(self):
        field = self.env_fr["subscription.plan"].fields_get(["billing_timing"])[
            "billing_timing"
        ]
        self.assertEqual(field["string"], "Mode de facturation")
        self.assertEqual(
            dict(field["selection"]),
            {"advance": "À échoir", "arrears": "À terme échu"},
        )

    def test_model_and_data_terms(self):
        self.assertEqual(
            self.env_fr["ir.model"]._get("subscription.subscription").name,
            "Abonnement",
        )
        reason = self.env_fr.ref("subscription_billing.close_reason_too_expensive")
        self.assertEqual(reason.name, "Trop cher")
        # English stays the source language.
        self.assertEqual(reason.with_context(lang="en_US").name, "Too expensive")

    def test_code_term(self):
        plan = self.env_fr["subscription.plan"].new(
            {"name": "Pro", "billing_interval": 3, "billing_unit": "month"}
        )
        self.assertEqual(plan.billing_period_label, "Tous les 3 mois")
