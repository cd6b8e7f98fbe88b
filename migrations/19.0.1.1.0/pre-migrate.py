# Copyright 2026 subscription_billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The dunning policy's calendar became company-dependent (jsonb by company):
each policy keeps its calendar for its company, or for every company when
the policy is shared."""


def migrate(cr, version):
    cr.execute(
        """
        SELECT data_type FROM information_schema.columns
         WHERE table_name = 'subscription_dunning_policy'
           AND column_name = 'calendar_id'
        """
    )
    row = cr.fetchone()
    if not row or row[0] == "jsonb":
        return
    cr.execute(
        """
        ALTER TABLE subscription_dunning_policy
            RENAME COLUMN calendar_id TO calendar_id_before_19_0_1_1;
        ALTER TABLE subscription_dunning_policy ADD COLUMN calendar_id jsonb;
        UPDATE subscription_dunning_policy p
           SET calendar_id = CASE
               WHEN p.company_id IS NOT NULL
               THEN jsonb_build_object(
                   p.company_id::text, p.calendar_id_before_19_0_1_1)
               ELSE (SELECT jsonb_object_agg(c.id::text, p.calendar_id_before_19_0_1_1)
                       FROM res_company c)
           END
         WHERE p.calendar_id_before_19_0_1_1 IS NOT NULL;
        ALTER TABLE subscription_dunning_policy
            DROP COLUMN calendar_id_before_19_0_1_1;
        """
    )
