"""The French words for every failure, status, notice and page line: the same keys and the same
parameters as the English tables in wording.py (tests/test_wording.py checks both)."""

from __future__ import annotations

FAILURES_FR: dict[str, str] = {
    "blind": "{letter} n'a pas pu répondre à cette question.",
    "auth": "{provider} a refusé la clé d'API (HTTP {status}) : {key_hint}.{said}",
    "credits": "{provider} a refusé la requête : le compte n'a plus de crédits ou a dépassé sa limite de dépenses "
    "(HTTP {status}).{said} Ajoutez des crédits ou relevez la limite dans la console du fournisseur.",
    "not_found": "{provider} ne connaît pas le modèle « {model} » (HTTP {status}). Choisissez un autre modèle.{listed}",
    "rate_limited": "{provider} limite le débit de ces requêtes (HTTP {status}). Attendez une minute et réessayez, "
    "ou choisissez un autre fournisseur.",
    "server": "{provider} a eu une erreur serveur (HTTP {status}). Réessayez dans un instant.{said}",
    "bad_request": "{provider} a refusé la requête (HTTP {status}).{said}",
    "bad_request.too_large": "La conversation est trop longue pour {provider} (HTTP {status}). Effacez la "
    "conversation ou raccourcissez le message.",
    "invalid_value.provider": "{provider} a refusé la valeur de {param} (HTTP {status}).{said} Changez-la dans "
    "Paramètres, ou laissez-la vide pour la valeur par défaut du modèle.",
    "invalid_value.range": "{param} doit être un nombre de {minimum:g} à {maximum:g} ; reçu : {value}.",
    "invalid_value.at_least": "{param} doit être un nombre entier d'au moins {minimum} ; reçu : {value}.",
    "invalid_value.range_whole": "{param} doit être un nombre entier de {minimum:,} à {maximum:,} ; reçu : {value}.",
    "invalid_value.at_most": "{param} vaut au plus {maximum:,} sur ce serveur ({setting}) ; reçu : {value}.",
    "invalid_value.choice": "{param} pour {model} doit être l'une de ces valeurs : {allowed} ; reçu : « {value} ».",
    "bad_argument": "L'argument {argument!r} doit être {expected} ; reçu : {got}.",
    "bad_text": "{argument!r} contient un caractère cassé (un demi-caractère UTF-16 isolé, au caractère {position}), "
    "qui ne peut pas être envoyé. Cela vient souvent d'un copier-coller abîmé : retapez ce passage.",
    "connect.hidden": "{provider} est injoignable depuis ce serveur, même après plusieurs essais. Réessayez plus "
    "tard, ou choisissez un autre fournisseur.",
    "not_compatible.hidden": "{provider} n'a pas répondu comme un serveur compatible OpenAI (HTTP {status}). Le "
    "propriétaire de ce serveur en voit la raison dans son journal ; choisissez un autre fournisseur d'ici là.",
    "redirected.hidden": "{provider} a répondu par une redirection (HTTP {status}), qui n'est pas suivie. Le "
    "propriétaire de ce serveur voit laquelle dans son journal ; choisissez un autre fournisseur d'ici là.",
    "connect.tls": "{provider} à {base_url} n'a pas pu établir de connexion sécurisée (TLS) : rien n'a été envoyé. "
    "Vérifiez l'URL de base (https ou http ?).",
    "connect.cert": "{provider} à {base_url} n'a pas présenté de certificat TLS valide : rien n'a été envoyé. "
    "Vérifiez l'URL de base (https ou http ?).",
    "connect.timeout": "La connexion à {provider} à {base_url} a expiré ({seconds:.0f} s), même après de nouveaux "
    "essais. Vérifiez le réseau, ou {where_hint}.",
    "connect.disconnected": "{provider} à {base_url} a fermé la connexion avant de répondre, même après de "
    "nouveaux essais. Réessayez dans un instant ; si cela continue, vérifiez l'URL de base.",
    "connect.dns": "L'adresse de {provider} ({base_url}) est introuvable, même après de nouveaux essais. Vérifiez "
    "le réseau et l'URL de base, ou {where_hint}.",
    "connect.refused": "Impossible de se connecter à {provider} à {base_url} (connexion refusée), même après de "
    "nouveaux essais. Le serveur est-il lancé ? S'il tourne ailleurs, {where_hint}.",
    "connect.other": "La connexion à {provider} a échoué avant le début de la réponse ({error}). Réessayez.",
    "timeout.first": "{provider} n'a rien envoyé pendant {seconds:g} s : la requête a été abandonnée. Réessayez, "
    "ou augmentez {setting}.",
    "timeout.idle": "{provider} a cessé d'envoyer pendant {seconds:g} s au milieu de la réponse, qui s'arrête donc "
    "là. Réessayez ({setting} fixe la durée d'une pause permise).",
    "stream_error": "{provider} a signalé une erreur au milieu de la réponse : {detail}. Réessayez pour avoir la suite.",
    "stream_error.whole": "{provider} a signalé une erreur : {detail}",
    "invalid_stream": "{provider} a envoyé un morceau de flux qui n'est pas du JSON valide ; la réponse s'arrête là. Réessayez.",
    "not_compatible": "{provider} à {base_url} n'a pas répondu comme un serveur compatible OpenAI (HTTP {status}, "
    "{content_type}). Début de la réponse : {first_bytes!r}. Vérifiez l'URL de base : elle se "
    "termine en général par /v1{where_hint_sentence}.",
    "cut_off.connection": "La connexion à {provider} a été coupée au milieu de la réponse. Réessayez pour avoir la suite.",
    "cut_off.no_finish": "La réponse de {provider} a été coupée : le flux s'est terminé avant que le modèle ne dise "
    "avoir fini. Réessayez.",
    "empty": "{provider} a renvoyé une réponse vide (raison de fin : {finish_reason}). Réessayez, reformulez, ou "
    "choisissez un autre modèle.",
    "not_ready.nothing": "Aucun fournisseur n'est configuré. Définissez une clé comme XAI_API_KEY dans .env ou dans "
    "les secrets du Space, ou installez requirements-local.txt pour discuter hors ligne avec le "
    "modèle fourni.",
    "not_ready.unknown": "Fournisseur inconnu {provider_id!r} ; fournisseurs connus : {known}.",
    "not_ready.not_set_up": "{provider} n'est pas configuré : {how}.",
    "not_ready.needs_key": "{provider} demande une clé d'API : collez la vôtre sous « Votre clé d'API » dans les "
    "réglages{get_one}{or_set}.",
    "not_ready.needs_key_api": "{provider} demande une clé d'API : passez la vôtre dans l'argument api_key (de /chat "
    "et /chat_details){get_one}{or_set}.",
    "not_ready.needs_key_mcp": "{provider} demande une clé d'API : envoyez la vôtre dans l'en-tête X-Provider-Key "
    "(dans les réglages de votre client MCP pour ce serveur){get_one}{or_set}.",
    "owner_only": "{provider} tourne sur le compte ou la machine de ce serveur, qu'il garde pour sa page : son "
    "propriétaire n'a pas mis MCP_OWNER_PAYS=1. Nommez un fournisseur dont vous avez la clé, avec votre clé dans "
    "l'en-tête X-Provider-Key.",
    "mcp_compare_keys": "compare répond avec les clés de ce serveur, qu'il garde pour sa propre page : son "
    "propriétaire n'a pas mis MCP_OWNER_PAYS=1. Utilisez ask avec votre clé dans l'en-tête X-Provider-Key.",
    "no_search_provider": "Aucun fournisseur ici ne cherche sur {what}. Ceux-ci le font : {able} (celui "
    "de xAI avec XAI_API_KEY sur le serveur, ou votre clé dans l'en-tête X-Provider-Key avec provider xai).",
    "no_search_provider.own_key": "Nommez le fournisseur de votre clé X-Provider-Key (l'argument provider) : celui "
    "par défaut ne cherche pas sur {what}, et votre clé ne va qu'au fournisseur que vous nommez. Ceux-ci "
    "cherchent : {able}.",
    "busy.all": "Ce serveur écrit déjà {count} réponses, le maximum qu'il tient à la fois. Réessayez dans un instant.",
    "busy.yours": "Vous avez déjà {count} réponses en cours d'écriture (dans d'autres conversations ou onglets de ce "
    "navigateur), le maximum à la fois. Attendez qu'une se termine, ou arrêtez-la.",
    "login_required": "Ce serveur ne répond qu'aux personnes connectées. Connectez-vous (le bouton au-dessus de la "
    "liste des conversations), puis reposez la question.",
    "blanks": "Le prompt du préréglage a des blancs à remplir d'abord : {names}. Remplissez-les au-dessus de la "
    "discussion (ou dans le prompt système, sous ⚙ Réglages), puis renvoyez.",
    "too_long": "Le message fait {chars:,} caractères ; ce serveur en accepte au plus {limit:,} (MAX_INPUT_CHARS). "
    "Raccourcissez-le, ou envoyez-le en plusieurs fois.",
    "too_long.with_files": "Le message et le texte de ses fichiers joints font {chars:,} caractères ; ce serveur en "
    "accepte au plus {limit:,} (MAX_INPUT_CHARS). Joignez moins de fichiers, ou un plus court.",
    "too_long.context": "Le prompt système et ce message font ensemble {chars:,} caractères ; ce serveur en envoie au "
    "plus {limit:,} (MAX_CONTEXT_CHARS). Raccourcissez l'un des deux.",
    "limited.lists": "Vous avez demandé trop de listes d'outils à votre propre serveur dans la dernière minute ; réessayez dans une minute.",
    "limited.rate": "Vous avez posé {limit} questions dans la dernière minute, le maximum permis par ce serveur "
    "(RATE_LIMIT_PER_MINUTE). Réessayez dans {seconds} s.",
    "limited.tokens": "Vous avez utilisé le quota de ce serveur, {limit:,} tokens par heure (TOKENS_PER_HOUR). "
    "Réessayez dans environ {minutes} min, ou utilisez votre propre clé d'API (sous « Votre clé "
    "d'API »).",
    "limited.tokens_one": "Cette question demande environ {needed:,} tokens (la conversation envoyée et la plus "
    "longue réponse permise), plus que le quota de ce serveur, {limit:,} tokens par heure "
    "(TOKENS_PER_HOUR). Commencez une nouvelle conversation, joignez moins de fichiers, "
    "baissez « Nombre maximal de tokens » ou utilisez votre propre clé d'API (sous « Votre clé d'API »).",
    "limited.budget": "Vous avez dépensé {spent:.4f} $ des {limit:.2f} $ par jour que ce serveur paie pour chaque "
    "visiteur (DOLLARS_PER_DAY_PER_VISITOR). Cela repart à {reset} UTC, dans {hours} h {minutes} min ; ou "
    "utilisez votre propre clé d'API (sous « Votre clé d'API »).",
    "limited.budget_one": "Cette question peut coûter jusqu'à {needed:.4f} $ (son prompt et la plus longue réponse "
    "permise, au prix catalogue), plus que les {limit:.2f} $ par jour que ce serveur paie pour chaque visiteur "
    "(DOLLARS_PER_DAY_PER_VISITOR). Commencez une nouvelle conversation, baissez « Nombre maximal de tokens », "
    "ou utilisez votre propre clé d'API.",
    "limited.budget_app": "Ce serveur a dépensé {spent:.4f} $ des {limit:.2f} $ qu'il paie par jour, pour tout le "
    "monde (DOLLARS_PER_DAY). Cela repart à {reset} UTC, dans {hours} h {minutes} min ; ou utilisez votre "
    "propre clé d'API (sous « Votre clé d'API »).",
    "limited.budget_app_one": "Cette question peut coûter jusqu'à {needed:.4f} $, plus que les {limit:.2f} $ que ce "
    "serveur paie par jour (DOLLARS_PER_DAY). Baissez « Nombre maximal de tokens », ou utilisez votre propre "
    "clé d'API.",
    "limited.budget_down": "Ce serveur compte ce que ses clés dépensent dans sa base de données, qui n'a pas répondu "
    "à l'instant : il ne répond plus sur ses clés tant qu'elle ne répond pas. Réessayez dans une minute, ou "
    "utilisez votre propre clé d'API.",
    "limited.budget_unpriced": "{model} ({provider}) n'a pas de prix connu : le budget en dollars de ce serveur ne "
    "peut donc pas le contenir (son propriétaire peut ajouter le prix dans models.yaml). Choisissez un autre "
    "modèle, ou utilisez votre propre clé d'API.",
    "endpoint_refused.custom_off": "Ce serveur n'envoie pas de questions à une URL de base choisie par ses visiteurs "
    "(son propriétaire peut le permettre avec ALLOW_CUSTOM_ENDPOINTS=1). Videz la case "
    "URL de base pour utiliser l'adresse de {provider}.",
    "endpoint_refused.address": "L'URL de base {base_url} a été refusée : {host} est {reason}, et ce serveur public ne "
    "s'y connecte pas pour ses visiteurs. Utilisez une adresse publique.",
    "endpoint_refused.scheme": "L'URL de base {base_url!r} n'est pas une adresse http:// ou https:// valide.",
    "endpoint_refused.unresolved": "L'adresse de {host} ({base_url}) est introuvable. Vérifiez l'URL de base.",
    "redirected": "{provider} à {base_url} a répondu par une redirection (HTTP {status}) vers {location}. Les "
    "redirections ne sont pas suivies, pour qu'une clé n'aille qu'à l'adresse prévue : si vous vous "
    "fiez à la nouvelle adresse, prenez-la comme URL de base.",
    "tool_server.unreachable": "Le serveur d'outils {server} est injoignable ({detail}).",
    "tool_server.slow": "Le serveur d'outils {server} n'a pas donné la liste de ses outils en {seconds:g} s.",
    "tool.unknown": "Il n'y a pas d'outil « {tool} » ; les outils sont {known}.",
    "tool.unavailable": "{provider} n'offre pas {tool} avec {model} (il offre : {offered}). Désactivez la recherche, "
    "ou choisissez un fournisseur ou un modèle qui l'a.",
    "tool.custom_endpoint": "Sur ce serveur public, la recherche ({tool}) ne va qu'à l'adresse de {provider}, pas à "
    "une URL de base donnée par un visiteur. Videz la case URL de base, ou désactivez la "
    "recherche.",
    "no_model": "{provider} ne liste aucun modèle pour l'instant. Tapez un identifiant de modèle dans la case Modèle, sous ⚙ Réglages.",
    "attachment.type": "{name} n'a pas été joint : les fichiers de ce type ({kind}) ne sont pas pris en charge. "
    "Joignez des images (jpg, png, webp), des fichiers texte (txt, md, csv, json, code) ou des PDF.",
    "attachment.size": "{name} n'a pas été joint : il fait {size_mb:.1f} Mo, et au plus {limit_mb:g} Mo sont lus "
    "par fichier (MAX_ATTACHMENT_MB).",
    "attachment.unreadable": "{name} n'a pas été joint : {problem}.",
    "attachment.no_text": "{name} n'a pas été joint : ce PDF ne contient pas de texte à lire (peut-être des pages "
    "scannées). Joignez plutôt les pages en images, à un modèle qui les lit.",
    "attachment.too_many": "{count} fichiers sont joints ; au plus {limit} sont lus avec une question. Envoyez-les en "
    "plusieurs questions.",
    "attachment.gone": "{name} n'est plus sur ce serveur (il a peut-être redémarré depuis) : joignez-le de nouveau.",
    "attachment.pixels": "{name} n'a pas été joint : l'image fait {width:,} × {height:,} pixels, et les images d'au "
    "plus {limit_mp} mégapixels sont lues. Envoyez-en une copie plus petite.",
    "attachment.text_only": "{model} ({provider}) ne lit que du texte : l'image {name} n'a pas été envoyée. "
    "Choisissez un modèle qui lit les images, ou retirez-la.",
    "picture.unsupported": "{provider} ne fait pas d'images ici. Choisissez xAI (Grok) ou OpenAI (ou un serveur de "
    "leur forme à leur URL de base), puis demandez avec /image.",
    "picture.no_prompt": "Dites quoi dessiner après /image (ou quoi changer après /edit).",
    "picture.no_reference": "Il n'y a pas d'image à changer dans cette conversation : faites-en une d'abord avec "
    "/image, ou joignez une photo (PNG ou JPEG) au message.",
    "picture.reference": "{name} ne peut pas être envoyée comme image à changer : {provider} prend un PNG ou un JPEG "
    "d'au plus {limit_mb:g} Mo.",
    "picture.refused": "{provider} a refusé de faire cette image (HTTP {status}) : ses règles de contenu ne "
    "permettent pas la demande.{said} Changez le prompt et réessayez.",
    "picture.none": "{provider} a répondu, mais n'a envoyé aucune image. Réessayez, ou changez le prompt.",
    "picture.address": "{provider} a fait l'image, mais a donné une adresse où Causerie ne va pas la chercher "
    "(seulement des adresses https de l'internet public, ou l'adresse du fournisseur lui-même) : rien n'a été gardé.",
    "picture.download": "{provider} a fait l'image, mais elle n'a pas pu être téléchargée (HTTP {status}) : rien "
    "n'a été gardé. Réessayez.",
    "picture.download.connection": "{provider} a fait l'image, mais la connexion a été coupée pendant son "
    "téléchargement : rien n'a été gardé. Réessayez.",
    "picture.not_image": "{provider} a envoyé autre chose qu'une image PNG, JPEG, WebP ou GIF : rien n'a été gardé.",
    "picture.too_large": "{provider} a envoyé une image de plus de {limit_mb:g} Mo : elle n'a pas été gardée.",
    "picture.not_kept": "{provider} a fait l'image, mais ce serveur n'a pas pu l'enregistrer (son disque) : son "
    "propriétaire le voit dans son journal. Réessayez plus tard.",
    "audio.kind": "{name} ne peut pas être transcrit : envoyez un enregistrement dans l'un de ces formats : {kinds}.",
    "audio.too_large": "L'enregistrement dépasse {limit_mb:g} Mo, plus qu'un service de transcription n'en prend. "
    "Enregistrez-en un plus court.",
    "audio.unreadable": "L'enregistrement n'a pas pu être lu comme de l'audio {suffix}. Enregistrez de nouveau, ou "
    "envoyez un autre fichier.",
    "audio.empty": "L'enregistrement est vide : rien n'a été entendu. Vérifiez le micro et enregistrez de nouveau.",
    "audio.missing": "L'enregistrement n'est pas arrivé au serveur, ou a déjà été transcrit. Enregistrez de nouveau.",
    "audio.wav_only": "Ce serveur ne transcrit que des enregistrements WAV, sur sa propre clé (la durée d'un WAV "
    "est sa taille : {setting} peut la borner). Envoyez un WAV, ou utilisez votre propre clé.",
    "audio.too_long": "L'enregistrement dure {seconds:.0f} s ; ce serveur en transcrit {limit} s au plus ({setting}). "
    "Enregistrez-en un plus court.",
    "speech.no_transcription": "Aucun service de transcription n'est prêt ici : la dictée demande xAI, OpenAI ou Groq "
    "(sa clé posée sur le serveur : XAI_API_KEY, OPENAI_API_KEY ou GROQ_API_KEY).",
    "speech.no_speech": "Aucun service de lecture à voix haute n'est prêt ici : il faut xAI ou OpenAI (sa clé posée "
    "sur le serveur : XAI_API_KEY ou OPENAI_API_KEY).",
    "speech.not_transcription": "{provider} ne transcrit pas ici ; nommez-en un qui le fait : {able}.",
    "speech.not_speech": "{provider} ne lit pas à voix haute ici ; nommez-en un qui le fait : {able}.",
    "speech.no_text": "{provider} a répondu sans transcription. Réessayez.",
    "speech.no_audio": "{provider} a répondu sans audio. Réessayez.",
    "speech.too_large": "{provider} a envoyé une réponse de plus de {limit_mb:g} Mo : elle n'a pas été utilisée.",
    "speech.nothing": "Il n'y a rien à lire à voix haute ici.",
    "speech.too_long": "Ce texte est trop long pour être lu d'une traite ({chars:,} caractères ; {limit:,} au plus).",
    "limited.pictures": "Vous avez eu {limit} images dans la dernière heure, le maximum que ce serveur fait pour un "
    "visiteur (IMAGES_PER_HOUR). Réessayez dans environ {minutes} min, ou utilisez votre propre clé d'API "
    "(sous « Votre clé d'API »).",
    "limited.pictures_one": "{needed} images à la fois, c'est plus que ce que ce serveur fait pour un visiteur en "
    "une heure ({limit}, IMAGES_PER_HOUR). Demandez-en moins.",
    "local": "{detail}",
    "internal": "Quelque chose s'est mal passé dans Causerie pendant la réponse. Réessayez ; si cela continue, le "
    "journal du serveur donne les détails.",
}

STATUSES_FR: dict[str, str] = {
    "blind": "En attente de la réponse…",
    "retrying": "{provider} a répondu HTTP {status} ; nouvel essai dans {seconds:.0f} s ({attempt}/{max_retries}).",
    "reconnecting": "{provider} est injoignable ; nouvel essai dans {seconds:.1f} s ({attempt}/{max_retries}).",
    "queued": "En attente de {provider} : il répond à une personne à la fois, {ahead} avant vous.",
    "starting_local": "Démarrage du modèle local…",
    "waiting.first": "En attente de la réponse de {provider}… {seconds} s",
    "waiting.paused": "{provider} fait une pause… {seconds} s",
    "searching.web": "Recherche sur le web{query_said}…",
    "searching.x": "Recherche sur X{query_said}…",
    "searching.code": "Exécution de code…",
    "searching.image": "Création d'une image…",
    "searching.tool": "Utilisation de {tool}{query_said}…",
    "drawing.one": "Création de l'image…",
    "drawing": "Création de {count} images…",
    "drawing.edit": "Modification de l'image…",
}

NOTICES_FR: dict[str, str] = {
    "tool_calls": "Le modèle a demandé d'appeler un outil au lieu de répondre en texte ; Causerie n'exécute pas "
    "d'outils dans cette conversation. Reposez la question, ou choisissez un autre modèle.",
    "partial_kept": " (la réponse partielle ci-dessus est conservée)",
    "unshown.image": "Le modèle a créé une image, mais pas une image que Causerie sait lire (PNG, JPEG, WebP ou GIF) : elle n'a pas été gardée.",
    "unshown": "La réponse contenait une partie d'un genre que ce chat ne montre pas ({what}) : elle n'a pas été gardée.",
    "tool_server": "Cette réponse a été écrite sans les outils de {server} : {detail}",
    "tools_unsupported": "{provider} ne peut pas appeler d'outils ici : cette réponse a été écrite sans eux.",
    "tool_steps": "Le modèle a demandé plus d'appels d'outils que ce serveur n'en permet pour une réponse ({limit}, "
    "MAX_TOOL_STEPS) : il s'est arrêté là.",
    "capped": "La réponse a été arrêtée vers {limit:,} tokens, le maximum que ce serveur paie pour une réponse (MAX_TOKENS_CAP).",
    "trimmed": "Les {count} plus anciens messages de cette conversation n'ont pas été envoyés : ce serveur en envoie "
    "au plus {limit:,} caractères (MAX_CONTEXT_CHARS). Commencez une nouvelle conversation pour tout garder "
    "en vue.",
}

HISTORY_FR: dict[str, str] = {
    "history_dropped": "Pour rester sous {count} conversations et {mb} Mo, les plus anciennes ont été supprimées : "
    "{titles}. Exportez celles que vous voulez garder avant que cela n'arrive (⬇ Tout).",
    "history_nearly_full": "{count} conversations sur au plus {max} ({size} sur {mb} Mo) sont gardées. Au-delà, les "
    "plus anciennes sont supprimées : exportez-en ou supprimez-en.",
    "history_too_large": "Cette conversation est trop longue pour être gardée ({size} Mo ; la limite est {limit} Mo) : "
    "elle reste sur cette page seulement. Exportez-la pour la garder.",
    "history_unreadable": "Vos conversations enregistrées n'ont pas pu être lues (le HISTORY_SECRET du serveur a "
    "peut-être changé, ou la valeur enregistrée est abîmée). Elles sont mises de côté, non "
    "lues, et reviennent si l'ancien secret revient ; les nouvelles conversations sont "
    "enregistrées comme d'habitude.",
    "store_unreachable": "Le stockage des conversations du serveur est injoignable : ce que vous faites maintenant est "
    "gardé sur cette page seulement (gardez-la ouverte ou exportez) et enregistré quand il revient.",
    "store_off": "Le stockage des conversations du serveur n'a pas pu être ouvert au démarrage : les conversations "
    "sont gardées dans chaque navigateur. Le journal du serveur dit pourquoi.",
    "secret_for_this_run": "HISTORY_SECRET n'est pas défini : les conversations enregistrées dans les navigateurs "
    "deviennent illisibles quand ce Space redémarre. Le propriétaire devrait le définir dans "
    "les secrets du Space ({make}).",
    "imported": "{count} conversation(s) importée(s).",
    "version_busy": "Attendez la fin de la réponse avant de passer à une autre version.",
    "forked": "Ce chat continue dans une nouvelle conversation, à partir de là.",
    "continued": "Une copie de la conversation partagée est maintenant dans votre liste : continuez à partir de là.",
    "continue_gone": "Cette conversation partagée n'existe pas, ou n'est plus partagée.",
    "import_failed": "Rien n'a été importé : {why}.",
    "import_failed.not_json": "Rien n'a été importé : le fichier n'est pas du JSON.",
    "import_failed.empty": "Rien n'a été importé : le fichier ne contient aucun message.",
    "import_failed.not_ours": "Rien n'a été importé : un export de Causerie était attendu, ou une liste de messages "
    "{{role, content}}.",
    "import_failed.bad_message": "Rien n'a été importé : le message {position} doit avoir un rôle (user, assistant ou "
    "system) et un contenu texte.",
    "import_failed.too_many": "Rien n'a été importé : le fichier contient {count} conversation(s) et {kept} sont déjà "
    "gardées ; au plus {limit} le sont. Exportez-en et supprimez-en d'abord.",
    "import_too_large": "Rien n'a été importé : le fichier fait {size} Mo ; au plus {limit} Mo sont lus.",
    "not_set_up": "Cette conversation utilisait {provider}, qui n'est pas configuré ici : elle continue avec {now}.",
}

PAGE_FR: dict[str, str] = {
    "mcp.asking": "Question posée à {model}…",
    "mcp.sources.web": "le web",
    "mcp.sources.x": "X",
    "mcp.sources.both": "le web et X",
    "mcp.thinking": "{model} réfléchit…",
    "mcp.writing": "{model} écrit : {chars:,} caractères pour l'instant",
    "mcp.partial": "La réponse jusque-là :",
    "thinking": "Réflexion",
    "share.read_only": "Une conversation partagée depuis Causerie, en lecture seule.",
    "share.system_prompt": "Prompt système",
    "share.left_out": "{count} fichier(s) non copié(s) dans ce partage.",
    "share.continue": "Continuer ce chat",
    "share.temporary": "Un chat temporaire n'est gardé nulle part : il n'est pas partagé non plus.",
    "share.busy": "Attendez la fin de la réponse, puis partagez.",
    "share.too_large": "Cette conversation est trop longue pour être partagée (plus de {limit:,} caractères).",
    "share.gone": "Cette conversation partagée n'existe pas, ou n'est plus partagée.",
    "share.made": "Partagée à {url} (quiconque a le lien peut la lire).",
    "share.updated": "Le lien montre maintenant la conversation telle qu'elle est à l'écran : {url}",
    "share.revoked": "Le lien ne fonctionne plus.",
    "share.none": "Cette conversation n'est pas partagée.",
    "share.nothing": "Il n'y a encore rien à partager : posez d'abord une question.",
    "share.off": "Le partage est désactivé sur ce serveur (SHARE_LINKS=0).",
    "share.too_many": "Vous avez {count} conversations partagées, le maximum que ce serveur garde pour une personne ; retirez-en une d'abord.",
    "share.unavailable": "Le partage n'est pas disponible pour l'instant : le stockage du serveur n'a pas répondu.",
    "share.not_yours": "Ce lien n'est pas le vôtre.",
    "tools.listed": "{server} : {count} outil(s)",
    "tools.unlisted": "{server} : {why}",
    "tools.remote": "{server} · tous ses outils, appelés par xAI (sans accord)",
    "version.of": "{shown}/{total}",
    "version.drop": "supprimer cette version",
    "tool.title": "🔧 {server} · {tool}",
    "tool.asked": "demandé",
    "tool.waiting": "attend votre accord",
    "tool.running": "en cours…",
    "tool.done": "fait",
    "tool.failed": "en échec",
    "tool.denied": "non exécuté",
    "tool.remote": "exécuté par {provider}",
    "tool.arguments": "Arguments",
    "tool.result": "Résultat",
    "tool.why_denied": "Non exécuté : {why}.",
    "tool.allow": "✅ Autoriser",
    "tool.deny": "⛔ Refuser",
    "tool.always": "Toujours autoriser {tool} dans ce chat",
    "drawn_in": "dessinée en {seconds:.1f} s",
    "ttft": "{seconds:.2f} s avant le premier token",
    "speed": "{rate:.0f} tokens/s",
    "tokens": "{prompt} en entrée · {completion} en sortie",
    "reasoning_tokens": " (dont {count} de réflexion)",
    "estimated": " (estimation)",
    "cost.provider": "{cost} facturés",
    "cost.price_table": "{cost} au prix catalogue",
    "cost": "{cost}",
    "length": "arrêtée à la limite de tokens",
    "tools.web.one": "1 recherche sur le web",
    "tools.web": "{count} recherches sur le web",
    "tools.x.one": "1 recherche sur X",
    "tools.x": "{count} recherches sur X",
    "tools.code.one": "1 exécution de code",
    "tools.code": "{count} exécutions de code",
    "tools.image.one": "1 image créée",
    "tools.image": "{count} images créées",
    "tools.tool.one": "1 appel d'outil",
    "tools.tool": "{count} appels d'outils",
    "tools.one": "1 appel d'outil",
    "tools": "{count} appels d'outils",
    "sources.one": "1 source",
    "sources": "{count} sources",
    "sources_title": "Sources",
    "file_gone": "📎 {name} : n'est plus disponible (joignez-le de nouveau pour vous en servir)",
    "picture_gone": "🖼️ {name} : n'est plus gardée sur ce serveur",
    "pictures_hint": "/image un renard roux dans la neige, aquarelle · /edit fais-en une scène de nuit",
    "cached": " (dont {count} en cache)",
    "budget_left": "Aujourd'hui : {spent:.4f} $ de vos {limit:.2f} $ dépensés sur les clés de ce serveur (repart à {reset} UTC)",
    "cockpit.spent": "**{spent:.4f} $** payés par vos clés sur les {days} derniers jours. Réponses : {answers} (celles des clés des visiteurs comptées, pas dans la somme).",
    "cockpit.head.provider": "Fournisseur",
    "cockpit.head.visitor": "Visiteur",
    "cockpit.head.dollars": "USD dépensés",
    "cockpit.head.answers": "Réponses",
    "cockpit.head.tool": "Outil",
    "cockpit.head.kind": "Genre",
    "cockpit.head.count": "Nombre",
    "cockpit.budget": "Budget du jour pour tout le monde (DOLLARS_PER_DAY) : {spent:.4f} $ de {limit:.2f} $ dépensés ; il repart à {reset} UTC.",
    "cockpit.errors": "{count} réponses ont fini par une erreur ou un refus ; {refusals} d'entre elles refusées par un budget en dollars.",
    "cockpit.ttft": "Délai avant le premier token : p50 {p50:.2f} s, p95 {p95:.2f} s.",
    "cockpit.cache": "Le cache de prompt des fournisseurs a lu {share:.0f} % des tokens en entrée.",
    "cockpit.unpriced": "{count} réponses sur vos clés n'avaient pas de coût connu (hors de la somme) : ajoutez le prix de leurs modèles dans models.yaml.",
    "cockpit.refused": "Cette page est réservée aux administrateurs du serveur (ADMIN_USERS), une fois connectés.",
    "cockpit.unavailable": "Les enregistrements des réponses n'ont pas pu être lus (la base de données n'a pas répondu) ; le journal du serveur dit pourquoi.",
    "totals.none": "Aucune réponse pour l'instant dans cette session.",
    "totals.one": "1 réponse · {approx}{prompt} tokens en entrée · {approx}{completion} en sortie",
    "totals": "{answers} réponses · {approx}{prompt} tokens en entrée · {approx}{completion} en sortie",
    "totals_cost": " · {cost}",
    "totals_unpriced": " · prix inconnu",
    "heard": "🎙️ {seconds:.1f} s entendues par {provider}{cost}",
    "read": "🔊 Lu par {provider} ({voice}){cost}",
    "voice_cost": " · {cost}",
    "totals_voice": " · voix : {count} · {cost}",
    "totals_some_unpriced": " (+{count} sans prix connu)",
    "compare.pick_two": "Choisissez au moins deux modèles différents (fournisseur:modèle) à comparer.",
    "compare.one_model": "Un seul modèle est disponible ici ({model}) : il en faut deux pour comparer. Tapez-en "
    "un autre (fournisseur:modèle), ou donnez votre propre clé à un fournisseur dans ⚙ Réglages › Votre clé d'API.",
    "compare.no_model": "Aucun modèle n'est encore disponible ici : donnez votre propre clé à un fournisseur dans "
    "⚙ Réglages › Votre clé d'API, puis revenez comparer deux de ses modèles, ou ceux de deux fournisseurs.",
    "compare.vote_now": "Quelle réponse est la meilleure ? Votre vote révèle les noms.",
    "compare.no_vote": "Pas de vote pour cette question : {letters} n'a pas répondu en entier.",
    "compare.no_vote.own_endpoint": "Pas de vote pour cette question : une réponse venait de votre propre URL de base, pas du fournisseur.",
    "compare.shown": "Les noms sont visibles : on ne vote qu'à l'aveugle (Nouvelle comparaison, avec « À l'aveugle » coché).",
    "compare.voted": "Vote enregistré. {names}",
    "compare.voted_already": "Cette question a déjà son vote.",
    "compare.vote_lost": "Le vote n'a pas pu être enregistré (la base des votes n'a pas répondu) ; les réponses restent.",
    "compare.was": "{letter} était {model}",
    "leaderboard.empty": "Aucun vote pour l'instant : comparez des modèles et votez, ils seront classés ici.",
    "leaderboard.count": "{votes} votes · {model_count} modèles",
    "leaderboard.count.one": "1 vote · {model_count} modèles",
    "leaderboard.apart": " · {count} autres pas encore comparés à ceux-ci, même par d'autres",
    "model_facts.price": "{input:g} $ en entrée · {output:g} $ en sortie, par million de tokens",
    "model_facts.context": "{tokens:,} tokens de contexte",
    "leaderboard.unavailable": "Le classement est indisponible : la base des votes n'a pas répondu.",
}

PARTS_FR: dict[str, str] = {
    "provider": "Le fournisseur",
    "said": " Le fournisseur a dit : « {detail} »",
    "listed": " Modèles qu'il liste : {models}.",
    "where_hint": "donnez à {base_url_env} la bonne adresse",
    "where_hint.none": "vérifiez qu'il est lancé",
    "where_hint_sentence": ", ou donnez à {base_url_env} la bonne adresse",
    "key_hint": "vérifiez les réglages de clé d'API du serveur",
    "key_hint.server": "mettez une clé valide dans {key_env}, dans .env ou les secrets du Space",
    "key_hint.visitor": "vérifiez la clé donnée sous « Votre clé d'API » (ou l'argument api_key)",
    "key_hint.login": "votre connexion Hugging Face a peut-être expiré ou n'a pas le droit d'appeler les fournisseurs "
    "d'inférence : déconnectez-vous et reconnectez-vous",
    "get_one": " (obtenez-en une sur {docs_url})",
    "or_set": ", ou définissez {key_env} dans .env ou les secrets du Space",
    "reason.metadata": "une adresse de métadonnées cloud",
    "reason.loopback": "une adresse de bouclage (loopback)",
    "reason.link_local": "une adresse lien-local",
    "reason.unique_local": "une adresse locale unique",
    "reason.private": "une adresse privée",
    "reason.not_public": "une adresse qui n'est pas publique sur internet",
    "problem.not_image": "ce n'est pas une image lisible",
    "problem.not_text": "ce n'est pas un fichier texte",
    "problem.pdf_locked": "le PDF est protégé par un mot de passe",
    "problem.pdf_damaged": "le PDF n'a pas pu être lu",
    "problem.pdf_too_costly": "la lecture du PDF a pris trop de temps (il est peut-être fait pour coûter cher à lire) ; joignez plutôt son texte",
    "query_said": " : « {query} »",
    "how": "{how}",
    "how.managed": "installez requirements-local.txt (le modèle hors ligne fourni)",
    "how.local": "définissez {base_url_env} (par défaut {base_url})",
    "how.key": "définissez {key_env} dans .env ou les secrets du Space",
}
