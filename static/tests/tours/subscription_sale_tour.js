import { registry } from "@web/core/registry";

// A salesperson quotes a monthly subscription (3 seats) and its setup fee,
// then sends the quotation to the customer.
registry.category("web_tour.tours").add("subscription_sale_quotation_tour", {
    url: "/odoo/action-sale.action_quotations_with_onboarding",
    steps: () => [
        {
            content: "New quotation",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the customer",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Tour Buyer",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour Buyer)",
            run: "click",
        },
        {
            content: "Choose the subscription plan",
            trigger: ".o_field_widget[name=subscription_plan_id] input",
            run: "edit Tour Seats",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Tour Seats monthly)",
            run: "click",
        },
        {
            content: "The plan fills the quotation with its seat line",
            trigger: ".o_data_row:contains(Seat licence):contains(Monthly) td[name=product_uom_qty]",
            run: "click",
        },
        {
            content: "Three seats",
            trigger: ".o_selected_row div[name=product_uom_qty] input",
            run: "edit 3",
        },
        {
            content: "Leave the line",
            trigger: "a[name=order_lines]",
            run: "click",
        },
        {
            content: "Seats priced by the plan, billed monthly",
            trigger:
                ".o_list_table:not(:has(.o_selected_row)) .o_data_row:contains(Seat licence):contains(Monthly):contains(30.00)",
        },
        {
            content: "Add the setup fee",
            trigger: ".o_field_x2many_list_row_add a:contains(Add a product)",
            run: "click",
        },
        {
            trigger: ".o_data_row:nth-child(2).o_selected_row div[name=product_template_id] input",
            run: "edit Onboarding setup",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains(Onboarding setup)",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains(Onboarding setup):contains(Once):contains(100.00)",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The recurring amount is the seats'",
            trigger: ".o_form_saved .o_field_widget[name=subscription_recurring_amount]:contains(30.00)",
        },
        {
            content: "Send it",
            trigger: "button[name=action_quotation_send]",
            run: "click",
        },
        {
            trigger: ".modal button[name=action_send_mail]",
            run: "click",
        },
        {
            content: "Sent",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Quotation Sent)",
        },
    ],
});

// The customer signs the quotation in the portal, then pays it with the
// demo provider, saving the card.
registry.category("web_tour.tours").add("subscription_sale_portal_tour", {
    steps: () => [
        {
            content: "Wait for the page",
            trigger: "body[is-ready=true]",
        },
        {
            content: "Sign & Pay",
            trigger: "#sale_order_sidebar_button a[data-bs-target='#modalaccept']",
            run: "click",
        },
        {
            content: "Sign with the name",
            trigger: ".modal .o_web_sign_name_and_signature input",
            run: "edit Tour Buyer",
        },
        {
            trigger: ".modal canvas.o_web_sign_signature",
            run: "canvasNotEmpty",
        },
        {
            content: "Accept and sign",
            trigger: ".modal .o_portal_sign_submit:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The payment opens once signed",
            trigger: "#modalaccept.show input[name=o_payment_radio][data-provider-code=demo]",
            run: "click",
        },
        {
            content: "Card details",
            trigger: "#modalaccept.show #customer_input",
            run: "edit 4242",
        },
        {
            content: "Save the card",
            trigger: "#modalaccept.show input[name=o_payment_tokenize_checkbox]",
            run: "click",
        },
        {
            content: "Pay",
            trigger: "#modalaccept.show button[name=o_payment_submit_button]:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the order, paid and confirmed",
            trigger: "#quote_content:contains(Sales Order):not(:has(#modalaccept .o_payment_form))",
        },
    ],
});
