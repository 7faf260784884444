"""The page's own words (labels, buttons, placeholders, notes) in English and French.

The page shows them in the browser's language (gr.I18n: the browser picks the table, by
navigator.language); what the server words at run time (answers' notices and failures, footers,
totals, history notices) follows the same browser's Accept-Language (visitors.page_language and
wording.py). A text made when the app is built (the key note, the table of providers) is added
under a key of its own with `Labels.add`.
"""

from __future__ import annotations

import gradio as gr
from gradio.i18n import I18nData

from ..i18n.wording import typeset

# key: (English, French)
TEXTS: dict[str, tuple[str, str]] = {
    "conversations": ("Conversations", "Conversations"),
    "settings": ("Settings", "Réglages"),
    "provider": ("Provider", "Fournisseur"),
    "model": ("Model", "Modèle"),
    "pin": ("📌 Pin / unpin", "📌 Épingler / détacher"),
    "model_picker": ("Model (type to search, by provider or model)", "Modèle (tapez pour chercher, par fournisseur ou modèle)"),
    "model_info": ("Pick one, or type any model id.", "Choisissez-en un, ou tapez l'identifiant d'un modèle."),
    "reasoning_effort": ("Reasoning effort", "Effort de réflexion"),
    "model_default": ("model default", "valeur par défaut du modèle"),
    "preset": ("Preset", "Préréglage"),
    "system_prompt": ("System prompt", "Prompt système"),
    "search_label": ("Search", "Recherche"),
    "search_info": (
        "The model searches as it answers, and lists its sources.",
        "Le modèle cherche en répondant, et donne ses sources.",
    ),
    "search.off": ("No search", "Sans recherche"),
    "search.web": ("Search the web", "Chercher sur le web"),
    "search.x": ("Search X", "Chercher sur X"),
    "search.both": ("Search the web and X", "Chercher sur le web et X"),
    "x_options": (
        "X search: accounts (@xai, or -@name to leave out), since: and until: dates",
        "Recherche X : comptes (@xai, ou -@nom pour en écarter), dates since: et until:",
    ),
    "x_options_placeholder": (
        "e.g. @xai @nasa since:2026-01-01 until:2026-02-01",
        "par exemple @xai @nasa since:2026-01-01 until:2026-02-01",
    ),
    "parameters": ("Parameters", "Paramètres"),
    "cockpit": ("Cockpit", "Tableau de bord"),
    "cockpit.period": ("Period", "Période"),
    "cockpit.today": ("Last 24 hours", "Dernières 24 heures"),
    "cockpit.week": ("Last 7 days", "7 derniers jours"),
    "cockpit.month": ("Last 30 days", "30 derniers jours"),
    "cockpit.refresh": ("↻ Refresh", "↻ Actualiser"),
    "cockpit.by_day": ("Your keys' spending by day (USD)", "Dépenses de vos clés par jour (USD)"),
    "cockpit.by_model": ("By model (USD)", "Par modèle (USD)"),
    "cockpit.by_provider": ("By provider", "Par fournisseur"),
    "cockpit.by_visitor": ("By visitor (a stable hash, not a name)", "Par visiteur (une empreinte stable, pas un nom)"),
    "cockpit.tools": ("Tools and pictures", "Outils et images"),
    "cockpit.errors_by_kind": ("Errors and refusals, by kind", "Erreurs et refus, par genre"),
    "cockpit.csv": ("⬇ Records (CSV)", "⬇ Enregistrements (CSV)"),
    "pictures": ("🖼️ Pictures", "🖼️ Images"),
    "picture_ratio": ("Shape", "Format"),
    "picture_ratio.auto": ("the model's choice", "au choix du modèle"),
    "picture_count": ("How many at once", "Combien à la fois"),
    "voice": ("🔊 Voice", "🔊 Voix"),
    "tools": ("🔧 Tools", "🔧 Outils"),
    "share": ("🔗 Share", "🔗 Partager"),
    "fork": ("Continue in a new chat from here", "Continuer dans un nouveau chat à partir d'ici"),
    "version_drop_ask": (
        "Delete this version of the answer, and what followed it?",
        "Supprimer cette version de la réponse, et ce qui l'a suivie ?",
    ),
    "continue_ask": (
        "Copy this shared conversation into your own list?",
        "Copier cette conversation partagée dans votre propre liste ?",
    ),
    "share_thinking": ("With the thinking", "Avec la réflexion"),
    "share_system_prompt": ("With the system prompt", "Avec le prompt système"),
    "share_make": ("Share or update the link", "Partager ou mettre à jour le lien"),
    "share_revoke": ("Revoke", "Retirer"),
    "tools_on": (
        "Tools the model may ask to use (each call waits for your approval)",
        "Outils que le modèle peut demander (chaque appel attend votre accord)",
    ),
    "tools_server": ("Your own MCP server (Streamable HTTP address)", "Votre propre serveur MCP (adresse Streamable HTTP)"),
    "voice_choice": ("Voice that reads answers", "Voix qui lit les réponses"),
    "voice.default": ("the provider's own", "celle du fournisseur"),
    "read_every": ("Read every answer aloud as it ends", "Lire chaque réponse à voix haute dès qu'elle est finie"),
    "send_dictation": ("Send what I dictate at once", "Envoyer tout de suite ce que je dicte"),
    "dictate": ("Dictate", "Dicter"),
    "read_aloud": ("Read aloud", "Lire à voix haute"),
    "stop_reading": ("Stop reading", "Arrêter la lecture"),
    "mic_denied": (
        "The microphone is not allowed for this page: allow it in the browser's site settings, then record again.",
        "Le micro n'est pas autorisé pour cette page : autorisez-le dans les réglages du site du navigateur, puis "
        "enregistrez de nouveau.",
    ),
    "pictures_info": (
        "In the chat, /image a fox in the snow makes a picture; /edit make it night changes the last one "
        "(or an attached photo). A picture model (in the model list) takes every question as a picture.",
        "Dans le chat, /image un renard dans la neige fait une image ; /edit fais-en une scène de nuit change la "
        "dernière (ou une photo jointe). Un modèle d'images (dans la liste des modèles) prend chaque question "
        "pour une image.",
    ),
    "temperature": ("Temperature (0 to 2)", "Température (0 à 2)"),
    "top_p": ("Top p (0 to 1)", "Top p (0 à 1)"),
    "max_tokens": ("Max tokens", "Nombre maximal de tokens"),
    "your_key": ("Your API key", "Votre clé d'API"),
    "key_box": ("API key for the chosen provider", "Clé d'API du fournisseur choisi"),
    "key_placeholder": ("used for your questions only", "utilisée pour vos questions seulement"),
    "base_url": ("Base URL", "URL de base"),
    "base_url_placeholder": ("the provider's own address", "l'adresse du fournisseur"),
    "base_url_info": (
        "Any OpenAI-compatible server, e.g. https://example.com/v1.",
        "Tout serveur compatible OpenAI, par exemple https://example.com/v1.",
    ),
    "other_providers": ("Other providers", "Autres fournisseurs"),
    "no_answers_yet": ("No answers yet in this session.", "Aucune réponse pour l'instant dans cette session."),
    "chat_placeholder": (
        "Ask anything. Answers stream in; Stop ends them. /image makes a picture.",
        "Demandez ce que vous voulez. Les réponses s'affichent au fil de l'eau ; Stop les arrête. /image fait une image.",
    ),
    "chat_placeholder.key": (
        "**To start, paste your own API key** under ⚙ Settings › Your API key, then pick its provider "
        "above the chat. This server takes a key for: {providers}. It is used for your questions only.",
        "**Pour commencer, collez votre propre clé d'API** dans ⚙ Réglages › Votre clé d'API, puis "
        "choisissez son fournisseur au-dessus de la discussion. Ce serveur accepte une clé pour : {providers}. "
        "Elle ne sert qu'à vos questions.",
    ),
    "input_placeholder": ("Type a message… (Shift+Enter: new line)", "Écrivez un message… (Maj+Entrée : nouvelle ligne)"),
    "new_chat": ("+ New chat", "+ Nouvelle conversation"),
    "blanks_intro": (
        "This preset has blanks to fill before the first message:",
        "Ce préréglage a des blancs à remplir avant le premier message :",
    ),
    "blanks_use": ("Use", "Utiliser"),
    "temporary_chat": ("Temporary", "Temporaire"),
    "temporary_note": (
        "**Temporary chat**: saved nowhere here; the provider is asked to keep no copy where it takes "
        "that request (OpenAI). It ends when you open another conversation.",
        "**Discussion temporaire** : enregistrée nulle part ici ; le fournisseur est prié de n'en garder "
        "aucune copie quand il accepte cette demande (OpenAI). Elle prend fin quand vous ouvrez une autre "
        "conversation.",
    ),
    "search": ("Search titles and text…", "Chercher dans les titres et le texte…"),
    "search_conversations": ("Search the conversations", "Chercher dans les conversations"),
    "message": ("Message", "Message"),
    "this_conversation": ("This conversation", "Cette conversation"),
    "title": ("Title", "Titre"),
    "title_info": ("Press Enter to rename.", "Appuyez sur Entrée pour renommer."),
    "delete": ("Delete", "Supprimer"),
    "export_all": ("⬇ All (JSON)", "⬇ Tout (JSON)"),
    "import": ("⬆ Import", "⬆ Importer"),
    "every_provider_ready": ("Every provider is set up.", "Tous les fournisseurs sont configurés."),
    "table_provider": ("Provider", "Fournisseur"),
    "table_to_use": ("To use it", "Pour l'utiliser"),
    "get_a_key": ("get a key", "obtenir une clé"),
    "your_key_suffix": ("(your key)", "(votre clé)"),
    "key_note.own_only": ("This server answers with your own key only.", "Ce serveur ne répond qu'avec votre propre clé."),
    "key_note.public": (
        "Providers marked (your key) need one; with yours, the server's limits on tokens do not apply.",
        "Les fournisseurs marqués (votre clé) en demandent une ; avec la vôtre, les limites de tokens "
        "du serveur ne s'appliquent pas.",
    ),
    "key_note.local": (
        "Providers marked (your key) need one; a key given here is used instead of the server's.",
        "Les fournisseurs marqués (votre clé) en demandent une ; une clé donnée ici remplace celle du serveur.",
    ),
    "open_settings": ("⚙ Settings", "⚙ Réglages"),
    "show_shortcuts": ("? Shortcuts", "? Raccourcis"),
    "shortcuts": (
        "**Keyboard shortcuts**\n\n"
        "| Keys | Does |\n|---|---|\n"
        "| Ctrl+Shift+O | New chat |\n"
        "| Shift+Esc or / | Type a message |\n"
        "| Esc | Stop the answer |\n"
        "| Ctrl+Shift+C | Copy the last answer |\n"
        "| Ctrl+Shift+S | Show or hide the conversations |\n"
        "| Ctrl+. | Show or hide the settings |\n"
        "| ? | This list (Esc closes it) |",
        "**Raccourcis clavier**\n\n"
        "| Touches | Action |\n|---|---|\n"
        "| Ctrl+Maj+O | Nouvelle conversation |\n"
        "| Maj+Échap ou / | Écrire un message |\n"
        "| Échap | Arrêter la réponse |\n"
        "| Ctrl+Maj+C | Copier la dernière réponse |\n"
        "| Ctrl+Maj+S | Afficher ou masquer les conversations |\n"
        "| Ctrl+. | Afficher ou masquer les réglages |\n"
        "| ? | Cette liste (Échap la ferme) |",
    ),
    "tab_chat": ("Chat", "Discussion"),
    "tab_compare": ("Compare", "Comparer"),
    "tab_leaderboard": ("Leaderboard", "Classement"),
    "compare_intro": (
        "One question to several models at once. Pick two to four (provider:model; C and D may stay "
        "empty); the prompt and parameters are the settings panel's. In blind mode the models are A, "
        "B… until you vote.",
        "Une même question à plusieurs modèles à la fois. Choisissez-en deux à quatre (fournisseur:modèle ; "
        "C et D peuvent rester vides) ; le prompt et les paramètres sont ceux des réglages. En aveugle, "
        "les modèles s'appellent A, B… jusqu'à votre vote.",
    ),
    **{f"compare_model_{i}": (f"Model {letter}", f"Modèle {letter}") for i, letter in enumerate("ABCD")},
    "compare_blind": ("Blind: hide the names until I vote", "À l'aveugle : cacher les noms jusqu'à mon vote"),
    "compare_input": ("Ask all of them… (Enter sends)", "Posez votre question à tous… (Entrée envoie)"),
    "compare_stop": ("Stop", "Arrêter"),
    "compare_new": ("New comparison", "Nouvelle comparaison"),
    "compare_to_chat": ("💬 Continue in a chat (each side a version)", "💬 Continuer dans un chat (chaque côté une version)"),
    **{f"vote_{i}": (f"{letter} is better", f"{letter} est meilleur") for i, letter in enumerate("ABCD")},
    "vote_tie": ("Tie", "Égalité"),
    "vote_bad": ("Both are bad", "Les deux sont mauvais"),
    "vote_bad_all": ("All are bad", "Tous sont mauvais"),
    "leaderboard_preset": ("Preset", "Préréglage"),
    "leaderboard_all": ("All presets", "Tous les préréglages"),
    "leaderboard_csv": ("⬇ CSV", "⬇ CSV"),
    "leaderboard_about": (
        "Bradley–Terry ratings from the votes of Compare (Elo scale: 400 points ahead means winning "
        "ten times out of eleven), with 95 % intervals from 200 resamplings of the votes. A tie or "
        '"bad" counts half a win to each.',
        "Classement de Bradley–Terry d'après les votes de Comparer (échelle Elo : 400 points d'avance, "
        "c'est gagner dix fois sur onze), avec des intervalles à 95 % tirés de 200 rééchantillonnages "
        "des votes. Une égalité ou « mauvais » compte une demi-victoire pour chacun.",
    ),
    "key_note.kept": (
        "The key is sent with each question to the provider's own address, and kept nowhere but this "
        "page: reload it, and it is gone.",
        "La clé est envoyée avec chaque question à l'adresse du fournisseur, et n'est gardée nulle part "
        "ailleurs que dans cette page : rechargez-la, et elle disparaît.",
    ),
}


def text(key: str) -> I18nData:
    """One of TEXTS, for a component or an update made outside build_demo."""
    if key not in TEXTS:
        raise KeyError(f"no words for {key!r}")
    return I18nData(key)


class Labels:
    """The words of one app: TEXTS, plus what was made when the app was built (`add`)."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[str, str]] = {}

    def __call__(self, key: str) -> I18nData:
        if key not in TEXTS and key not in self._made:
            raise KeyError(f"no words for {key!r}")
        return I18nData(key)

    def pair(self, key: str) -> tuple[str, str]:
        return TEXTS.get(key) or self._made[key]

    def add(self, key: str, english: str, french: str) -> I18nData:
        self._made[key] = (english, french)
        return I18nData(key)

    def i18n(self) -> gr.I18n:
        both = {**TEXTS, **self._made}
        return gr.I18n(en={k: en for k, (en, _) in both.items()}, fr={k: typeset(fr, "fr") for k, (_, fr) in both.items()})
