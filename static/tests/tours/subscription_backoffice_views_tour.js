import { registry } from "@web/core/registry";

// The page never scrolls sideways (checked at desktop and phone size).
function noHorizontalOverflow(where) {
    return {
        content: `No horizontal overflow: ${where}`,
        trigger: "body",
        run() {
            const width = document.documentElement.scrollWidth;
            if (width > window.innerWidth + 1) {
                throw new Error(
                    `${where}: the page is ${width}px wide in a ${window.innerWidth}px window`
                );
            }
        },
    };
}

// The current state in the statusbar: its highlighted arrow on a desktop,
// the label of its dropdown on a phone.
function currentState(label) {
    return (
        `.o_statusbar_status .o_arrow_button_current:contains(${label}), ` +
        `.o_statusbar_status .dropdown-toggle:contains(${label})`
    );
}

// A many2one: an autocomplete on a desktop, a search dialog on a phone.
function pickMany2one(field, name) {
    return [
        {
            content: `Choose ${name}`,
            isActive: ["desktop"],
            trigger: `.o_field_widget[name=${field}] input`,
            run: `edit ${name}`,
        },
        {
            isActive: ["desktop"],
            trigger: `.o-autocomplete--dropdown-item .dropdown-item:contains(${name})`,
            run: "click",
        },
        {
            content: `Choose ${name}`,
            isActive: ["mobile"],
            trigger: `.o_field_widget[name=${field}] input`,
            run: "click",
        },
        {
            isActive: ["mobile"],
            trigger: ".modal .o_control_panel button:has(.fa-search)",
            run: "click",
        },
        {
            isActive: ["mobile"],
            trigger: ".modal .o_searchview_input",
            run: `edit ${name}`,
        },
        {
            isActive: ["mobile"],
            trigger: ".modal .o_searchview_input",
            run: "press Enter",
        },
        {
            isActive: ["mobile"],
            trigger: `.modal .o_kanban_record:contains(${name})`,
            run: "click",
        },
        {
            content: `${name} is chosen`,
            trigger: `.o_field_widget[name=${field}] input:value("${name}")`,
        },
    ];
}

function switchView(type, name, loaded) {
    return [
        {
            content: `Switch to the ${name} view`,
            isActive: ["desktop"],
            trigger: `.o_switch_view.o_${type}`,
            run: "click",
        },
        {
            content: "Open the view switcher",
            isActive: ["mobile"],
            trigger: ".o_control_panel .o_cp_switch_buttons > button",
            run: "click",
        },
        {
            content: `Switch to the ${name} view`,
            isActive: ["mobile"],
            trigger: `.o-dropdown--menu .dropdown-item:contains(${name})`,
            run: "click",
        },
        { content: `The ${name} view is shown`, trigger: loaded },
        noHorizontalOverflow(name),
    ];
}

// A billing user creates a subscription, sees its lifecycle in the
// statusbar, starts it with the primary button, finds the other changes in
// the action menu, then looks at it in the kanban, pivot and graph views.
registry.category("web_tour.tours").add("subscription_backoffice_views_tour", {
    steps: () => [
        {
            content: "The subscriptions are listed",
            trigger: ".o_list_view, .o_kanban_view",
        },
        noHorizontalOverflow("subscriptions"),
        {
            content: "Create a subscription",
            trigger: ".o_control_panel button.o_list_button_add, .o_control_panel button.o-kanban-button-new",
            run: "click",
        },
        ...pickMany2one("partner_id", "Tour Customer"),
        ...pickMany2one("plan_id", "Tour Plan"),
        {
            content: "The plan's line is copied",
            trigger: ".o_field_widget[name=line_ids] :contains(Tour Service)",
        },
        {
            content: "The statusbar shows the lifecycle, Draft first",
            trigger: currentState("Draft"),
        },
        {
            content: "The lifecycle's next states are in the statusbar",
            isActive: ["desktop"],
            trigger: ".o_statusbar_status:contains(Trial):contains(Active):contains(Closed)",
        },
        noHorizontalOverflow("new subscription"),
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Start it: the primary action of a draft",
            trigger: ".o_form_saved .o_statusbar_buttons button.btn-primary[name=action_start]",
            run: "click",
        },
        {
            content: "It is active",
            trigger: currentState("Active"),
        },
        {
            content: "An active subscription is not started again",
            trigger: ".o_form_view:not(:has(button[name=action_start]))",
        },
        noHorizontalOverflow("active subscription"),
        {
            content: "Open the action menu",
            trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)",
            run: "click",
        },
        {
            content: "The other changes are in the action menu",
            trigger: ".o-dropdown--menu .dropdown-item:contains(Change plan)",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains(Pause)",
            run: "press Escape",
        },
        {
            content: "Back to the subscriptions",
            trigger: ".o_back_button, .o_control_panel .breadcrumb-item:not(.active) a",
            run: "click",
        },
        ...switchView(
            "kanban",
            "Kanban",
            ".o_kanban_view .o_kanban_record:contains(Tour Customer)"
        ),
        {
            content: "The kanban has a column per state, Suspended included",
            trigger: ".o_kanban_view .o_column_title:contains(Suspended)",
        },
        {
            content: "A subscription is not created paused",
            trigger:
                ".o_kanban_view .o_kanban_group:contains(Paused):not(:has(.o_kanban_quick_add))",
        },
        {
            content: "Quick create a subscription in the Draft column",
            trigger: ".o_kanban_view .o_kanban_group:contains(Draft) .o_kanban_quick_add",
            run: "click",
        },
        ...pickMany2one("partner_id", "Tour Customer"),
        ...pickMany2one("plan_id", "Tour Plan"),
        {
            content: "Add it",
            trigger: ".o_kanban_quick_create .o_kanban_add",
            run: "click",
        },
        {
            content: "It is a draft",
            trigger:
                ".o_kanban_group:contains(Draft) .o_kanban_record:contains(Tour Customer)",
        },
        {
            trigger: ".o_kanban_quick_create .o_kanban_cancel",
            run: "click",
        },
        ...switchView("pivot", "Pivot", ".o_pivot table"),
        ...switchView("graph", "Graph", ".o_graph_renderer canvas"),
    ],
});
