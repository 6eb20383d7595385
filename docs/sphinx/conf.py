# Sphinx configuration for the jit.karpenter docsite (`make docs`). Based on `antsibull-docs
# sphinx-init`, without intersphinx so that the build needs no network.
project = "jit.karpenter"
copyright = "jit.karpenter maintainers"
title = "jit.karpenter"
html_short_title = "jit.karpenter"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
nitpicky = True
# Labels of the Ansible docsite and pages of other collections (not part of this build); links
# inside jit.karpenter stay checked.
nitpick_ignore = [("ref", "ansible_configuration_settings"), ("ref", "common_return_values")]
nitpick_ignore_regex = [("ref", r"ansible_collections\.(?!jit\.karpenter\.).*")]
# The README's mermaid diagram stays a code block (no mermaid extension offline). ansible-core's own
# configuration variables (ANSIBLE_CACHE_PLUGIN and the like, from the inventory_cache doc fragment of the
# eks_clusters inventory) are documented in ansible-core's docsite, not in this one.
suppress_warnings = ["myst.xref_missing", "misc.highlighting_failure", "ref.envvar"]

