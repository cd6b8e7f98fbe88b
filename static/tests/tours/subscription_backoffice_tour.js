import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A billing user creates a subscription, starts it and invoices it now.
registry.category("web_tour.tours").add("subscription_backoffice_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps(
            "subscription_billing.menu_subscription_root",
            "Open the Subscriptions app"
        ),
        {
            content: "Create a subscription",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the customer",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Tour Customer",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour Customer)",
            run: "click",
        },
        {
            content: "Choose the plan",
            trigger: ".o_field_widget[name=plan_id] input",
            run: "edit Tour Plan",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour Plan)",
            run: "click",
        },
        {
            content: "The plan's line is copied",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Tour Service)",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Start it",
            trigger: ".o_form_saved button[name=action_start]",
            run: "click",
        },
        {
            trigger: ".o_arrow_button_current:contains(Active)",
        },
        {
            content: "Invoice now",
            trigger: "button[name=action_invoice_now]",
            run: "click",
        },
        {
            content: "The invoice names the service period",
            trigger: ".o_field_widget[name=invoice_line_ids] .o_data_row:contains(Tour Service —)",
        },
    ],
});
