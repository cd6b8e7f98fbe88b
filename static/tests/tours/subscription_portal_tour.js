import { registry } from "@web/core/registry";

// The page fits the window (phone or desktop): no horizontal scroll, and
// each element of `selectors` is shown inside the viewport.
function checkFits(selectors) {
    const width = window.innerWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth > width + 1) {
        throw new Error(`The page scrolls sideways: ${scrollWidth}px for ${width}px`);
    }
    for (const selector of selectors) {
        const element = document.querySelector(selector);
        const rect = element && element.getBoundingClientRect();
        if (!rect || !rect.width || !rect.height) {
            throw new Error(`${selector} is not shown`);
        }
        if (rect.left < 0 || rect.right > width) {
            throw new Error(
                `${selector} is off-screen: ${rect.left}-${rect.right}px for ${width}px`
            );
        }
    }
}

// A customer opens their subscriptions in the portal, checks the invoice,
// raises a quantity (seeing the prorated amount first) and cancels at the
// end of the period.
registry.category("web_tour.tours").add("subscription_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open My Subscriptions from the portal home",
            trigger: 'a[href="/my/subscriptions"]',
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The list fits the screen, status included",
            trigger: ".o_portal_subscription_row .badge",
            run: () => checkFits([".o_portal_subscription_row .badge"]),
        },
        {
            content: "The list shows the subscription",
            trigger: ".o_portal_subscription_row a:contains(SUB/)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The page fits the screen: the invoice's status, PDF and Pay are in view",
            trigger: ".o_portal_subscription_invoices .o_portal_invoice_pay",
            run: () =>
                checkFits([
                    ".o_portal_subscription_invoices .o_portal_invoice_status",
                    ".o_portal_subscription_invoices a.o_download_pdf",
                    ".o_portal_subscription_invoices .o_portal_invoice_pay",
                    ".o_portal_quantity_form button[type=submit]",
                ]),
        },
        {
            content: "The invoice's PDF downloads",
            trigger: ".o_portal_subscription_invoices a.o_download_pdf[href*='report_type=pdf']",
            run: async function () {
                const response = await fetch(this.anchor.getAttribute("href"));
                const type = response.headers.get("Content-Type");
                if (!response.ok || type !== "application/pdf") {
                    throw new Error(`PDF download failed: ${response.status} ${type}`);
                }
            },
        },
        {
            content: "The statement is downloadable",
            trigger: "a.o_portal_statement[href*='report_type=pdf']",
        },
        {
            content: "Raise the quantity to 3",
            trigger: ".o_portal_quantity_form input[name=quantity]",
            run: "edit 3",
        },
        {
            trigger: ".o_portal_quantity_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The prorated amount is shown before confirming",
            trigger: ".o_portal_change_confirm .o_portal_change_net:contains(7.74)",
        },
        {
            trigger: ".o_portal_change_confirm_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The change is recorded",
            trigger: ".alert-success:contains(Your change is recorded)",
        },
        {
            trigger: ".o_portal_quantity_form input[name=quantity]:value(3)",
        },
        {
            content: "Cancel at the end of the period, with a reason",
            trigger: ".o_portal_cancel_form select[name=reason_id]",
            run: "selectByLabel Too expensive",
        },
        {
            trigger: ".o_portal_cancel_form button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_portal_change_confirm_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The subscription can be kept until its end",
            trigger: ".o_portal_reactivate_form:contains(Keep my subscription)",
        },
    ],
});
