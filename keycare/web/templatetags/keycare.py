from django import template

register = template.Library()


@register.simple_tag
def widget(field, css_class: str = "form-control"):
    """Render a bound field's widget with a Tabler class, marking invalid fields."""
    classes = css_class + (" is-invalid" if field.errors else "")
    return field.as_widget(attrs={"class": classes})


@register.simple_tag
def style_guidance(style: str) -> str:
    from keycare.accounts.choices import STYLE_GUIDANCE

    return STYLE_GUIDANCE.get(style, STYLE_GUIDANCE["unknown"])
