"""Version 1 of the preparation modules and of the two consent documents, in
English and French, written from the clinic's published facts (DESIGN.md,
"Facts for the public pages").

A clinic needs them in production as much as in the demo, so a data
migration installs them (`install`), and staff edit them afterwards in the
admin: an edit publishes a new version, and these texts stay what version 1
said. The text format is plain: paragraphs separated by a blank line, a line
starting with "## " is a heading, lines starting with "- " make a list
(`sessions.text.blocks` reads it; nothing in it is HTML)."""

import re
from datetime import UTC, datetime

# Version 1 is in force from a fixed moment, so every database (and every
# test, whatever date it travels to after 2026) holds the same documents.
VERSION_1_IN_FORCE_FROM = datetime(2026, 1, 1, tzinfo=UTC)


def _fr(text: str) -> str:
    """Quebec typography: a non-breaking space before : ; ? ! and » and after «."""
    text = re.sub(r" ([:;?!»])", "\u00a0\\1", text)
    return text.replace("« ", "«\u00a0")


def _clean(text: str) -> str:
    """The text as stored: no indentation, paragraphs one blank line apart."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


MODULES = [
    {
        "slug": "what-to-expect",
        "order": 10,
        "title_en": "What to expect",
        "title_fr": "À quoi vous attendre",
        "body_en": """
Ketamine-assisted therapy (KAT) brings together two things: psychotherapy with trained
professionals, and ketamine given by our medical team at measured doses. Ketamine can bring
on a non-ordinary state of consciousness. Within a program of preparation, support and
integration, that state can help people work through depression, anxiety, trauma and
addiction.

## The path you are on

- Prepare: we get to know your story, you read these modules, you sign your consents and
  meet a medical practitioner for your medical assessment.
- Dosing: a series of dosing sessions in a room designed for this work, each one followed by
  an integration session.
- Integrate: putting the pieces back together. Many people find this is the most important
  part.
- Reconnect: healing is not a straight line. More treatment, ongoing integration groups, or
  simply staying in touch are all possible.

## What a dosing session can feel like

Everyone's experience is different, and the same person can have very different sessions.
An experience can be blissful or hard, mild or intense. At the doses we use, people often
notice some easing of pain, anxiety or low mood, more sensitivity to light and sound, a
dream-like or floating feeling, less feeling in the body, an altered sense of time, and mild
changes in what they see and hear. Everyday worries tend to loosen their grip for a while.

It can also be uncomfortable. Difficult feelings or painful memories may come up, and you
may see things in a new way that takes time to settle. This is part of the work, and you
are not alone with it: your therapist stays with you, and the medical team watches over
your physical safety throughout.

## How the medicine is given

Ketamine can be given in several ways. Our clinic uses only two: a nasal spray, or a tablet
that dissolves under the tongue. The medical team sets the route and the dose for you, and
adjusts them over the series if needed.

## Questions are welcome

Nothing here is a test. If something is unclear or worries you, write it in your session
preferences or bring it to your next appointment: no question is too small.
""",
        "body_fr": """
La thérapie assistée par la kétamine (TAK) réunit deux choses : une psychothérapie menée par
des professionnels formés, et de la kétamine administrée par notre équipe médicale à des doses
mesurées. La kétamine peut provoquer un état de conscience inhabituel. Dans un programme qui
comprend la préparation, l’accompagnement et l’intégration, cet état peut aider à traverser la
dépression, l’anxiété, un traumatisme ou une dépendance.

## Le parcours qui vous attend

- Préparation : nous apprenons à connaître votre histoire, vous lisez ces modules, vous signez
  vos consentements et vous rencontrez un membre de l’équipe médicale pour votre évaluation
  médicale.
- Séances de kétamine : une série de séances dans une salle conçue pour ce travail, chacune
  suivie d’une séance d’intégration.
- Intégration : rassembler les morceaux. Beaucoup de personnes la trouvent l’étape la plus
  importante.
- Reconnexion : la guérison n’est pas une ligne droite. Un nouveau traitement, des groupes
  d’intégration ou simplement garder le contact : tout cela est possible.

## Ce qu’une séance peut faire ressentir

Chaque expérience est différente, et une même personne peut vivre des séances très
différentes. L’expérience peut être douce ou difficile, légère ou intense. Aux doses que nous
utilisons, on remarque souvent un certain apaisement de la douleur, de l’anxiété ou de
l’humeur dépressive, une plus grande sensibilité à la lumière et aux sons, une impression de
rêve ou de flottement, moins de sensations dans le corps, une perception du temps modifiée et
de légers changements dans ce que l’on voit et entend. Les soucis du quotidien relâchent
souvent leur emprise pendant un moment.

L’expérience peut aussi être inconfortable. Des émotions difficiles ou des souvenirs
douloureux peuvent remonter, et vous pourriez voir les choses autrement, ce qui demande du
temps pour se déposer. Cela fait partie du travail, et vous ne le vivez pas en solitaire : votre
thérapeute reste avec vous, et l’équipe médicale veille sur votre sécurité physique du début
à la fin.

## Comment le médicament est donné

La kétamine peut être administrée de plusieurs façons. Notre clinique n’en utilise que deux :
un vaporisateur nasal, ou un comprimé qui fond sous la langue. L’équipe médicale choisit la
voie et la dose pour vous, et les ajuste au fil de la série au besoin.

## Vos questions sont les bienvenues

Rien ici n’est un examen. Si quelque chose n’est pas clair ou vous inquiète, notez-le dans vos
préférences de séance ou parlez-en à votre prochain rendez-vous : aucune question n’est trop
petite.
""",
    },
    {
        "slug": "set-and-setting",
        "order": 20,
        "title_en": "Set and setting",
        "title_fr": "L’état d’esprit et le cadre",
        "body_en": """
Two things shape a dosing session as much as the medicine does: your "set", the state of
mind you bring, and the "setting", the place and the people around you. We take care of the
setting with you, and we help you prepare your set.

## The setting

Our dosing rooms are designed for this kind of therapy: quiet, comfortable, softly lit. Most
people rest semi-reclined. You may wear eye shades, which help many people turn inward, and
you may listen to music chosen for these sessions, or prefer silence. You tell us what you
would like in your session preferences, and you can change your mind on the day.

Your therapist stays with you for the whole session, and a medical practitioner is close by
and checks on you. The door stays closed, and nobody comes in who is not part of your care.

## Your set

Your state of mind is not something to get "right", and there is no correct way to feel
before a session. It helps to:

- sleep well the night before, if you can, and keep the day free of other demands;
- notice what you are carrying into the session: worries, hopes, questions;
- talk with your therapist about anything that makes you uneasy, including fears about the
  medicine itself;
- be gentle with yourself: nervousness is common and welcome in the room.

## Other medicines and substances

Tell the medical team about every medicine, supplement and substance you take, including
alcohol and cannabis, even occasionally. Some of them change how ketamine acts or how safe a
session is. Do not stop or change a prescribed medicine on your own: the medical team will
tell you if anything needs to change.
""",
        "body_fr": """
Deux choses façonnent une séance autant que le médicament lui-même : votre état d’esprit, ce
que vous apportez avec vous, et le cadre, c’est-à-dire le lieu et les personnes qui vous
entourent. Nous préparons le cadre avec vous, et nous vous aidons à préparer votre état
d’esprit.

## Le cadre

Nos salles sont conçues pour ce type de thérapie : calmes, confortables, à l’éclairage doux.
La plupart des personnes se reposent en position semi-allongée. Vous pouvez porter un masque
pour les yeux, qui aide beaucoup de gens à se tourner vers l’intérieur, et écouter une musique
choisie pour ces séances, ou préférer le silence. Vous nous dites ce que vous souhaitez dans vos
préférences de séance, et vous pouvez changer d’avis le jour même.

Votre thérapeute reste avec vous pendant toute la séance, et un membre de l’équipe médicale
est tout près et vient vous voir. La porte reste fermée, et personne n’entre s’il ne fait pas
partie de vos soins.

## Votre état d’esprit

Il n’y a pas de « bon » état d’esprit à atteindre, ni de bonne façon de se sentir avant une
séance. Ce qui aide :

- bien dormir la veille, si vous le pouvez, et garder la journée libre d’autres obligations ;
- remarquer ce que vous apportez dans la séance : inquiétudes, espoirs, questions ;
- parler à votre thérapeute de tout ce qui vous rend mal à l’aise, y compris vos craintes au
  sujet du médicament ;
- faire preuve de douceur envers vous-même : la nervosité est fréquente, et elle a sa place dans la salle.

## Autres médicaments et substances

Informez l’équipe médicale de tous les médicaments, suppléments et substances que vous prenez,
y compris l’alcool et le cannabis, même à l’occasion. Certains modifient l’effet de la
kétamine ou la sécurité d’une séance. N’arrêtez pas et ne modifiez pas un médicament prescrit
de vous-même : l’équipe médicale vous dira si quelque chose doit changer.
""",
    },
    {
        "slug": "dosing-day",
        "order": 30,
        "title_en": "The day of a dosing session",
        "title_fr": "Le jour d’une séance de kétamine",
        "body_en": """
A dosing session takes about three hours, from your arrival to the moment you go home. Here
is how the day goes, so that nothing takes you by surprise. Your clinic's own instructions
for the day (eating and drinking, what to bring) are shown with each session in your portal
and in the reminders we send you.

## Before you come

- Follow the clinic's instructions about eating and drinking before the session.
- Arrange for someone you trust to take you home. You cannot drive, cycle or operate
  machinery until the next day, and you should not leave alone.
- Wear comfortable, warm clothes. Bring anything that helps you feel at ease: a blanket, a
  sweater, a small object that matters to you.

## When you arrive

Your therapist welcomes you and talks with you about how you are and what you bring to this
session. A member of the medical team checks your blood pressure, heart rate and oxygen level.
If your blood pressure is too high on the day, the session may be moved to another day: this
is for your safety, and it is never a failure.

## During the session

The medical team gives you the medicine, by nasal spray or tablet under the tongue, as planned
for you. The effects usually begin within minutes and are strongest for a while before they
ease off. Your therapist stays with you the whole time. You can talk or stay silent, keep your
eyes open or wear eye shades, ask for water or a blanket, or ask for the music to change. Your
vital signs are checked again during the session.

## Going home

Once the effects have worn off and your vital signs are back within range, the medical team
checks that you are alert and steady, and that the person taking you home is there. Take the
rest of the day gently. Avoid alcohol, and make no important decisions until the next day.

If anything worries you after you leave, call the clinic. In an emergency, call 911; if you
have thoughts of suicide, call or text 9-8-8 at any time.
""",
        "body_fr": """
Une séance de kétamine dure environ trois heures, de votre arrivée à votre départ. Voici
comment se déroule la journée, pour que rien ne vous prenne par surprise. Les consignes de
votre clinique pour la journée (manger et boire, quoi apporter) figurent avec chaque séance
dans votre portail et dans les rappels que nous vous envoyons.

## Avant de venir

- Suivez les consignes de la clinique sur ce que vous pouvez manger et boire avant la séance.
- Prévoyez une personne de confiance pour vous raccompagner. Vous ne pourrez ni conduire, ni
  faire du vélo, ni utiliser de machines avant le lendemain, et vous ne devriez pas repartir
  sans accompagnement.
- Portez des vêtements confortables et chauds. Apportez ce qui vous aide à vous sentir bien :
  une couverture, un chandail, un petit objet qui compte pour vous.

## À votre arrivée

Votre thérapeute vous accueille et parle avec vous de votre état et de ce que vous apportez à
cette séance. Un membre de l’équipe médicale mesure votre tension artérielle, votre pouls et
votre taux d’oxygène. Si votre tension est trop élevée ce jour-là, la séance peut être
reportée : c’est pour votre sécurité, et ce n’est jamais un échec.

## Pendant la séance

L’équipe médicale vous donne le médicament, par vaporisateur nasal ou comprimé sous la langue,
comme prévu pour vous. Les effets commencent en général en quelques minutes et sont plus forts
pendant un moment avant de s’atténuer. Votre thérapeute reste avec vous tout le temps. Vous
pouvez parler ou garder le silence, garder les yeux ouverts ou porter un masque, demander de
l’eau ou une couverture, ou demander de changer la musique. Vos signes vitaux sont mesurés de
nouveau pendant la séance.

## Le retour à la maison

Quand les effets se sont dissipés et que vos signes vitaux sont revenus à la normale, l’équipe
médicale vérifie que vous êtes alerte et stable, et que la personne qui vous raccompagne est
là. Prenez le reste de la journée en douceur. Évitez l’alcool et ne prenez aucune décision
importante avant le lendemain.

Si quelque chose vous inquiète après votre départ, appelez la clinique. En cas d’urgence,
composez le 911 ; si vous avez des pensées suicidaires, appelez ou textez le 9-8-8, en tout
temps.
""",
    },
    {
        "slug": "intentions",
        "order": 40,
        "title_en": "Intentions",
        "title_fr": "Vos intentions",
        "body_en": """
An intention is a simple statement of what you hope to explore, understand or let go of. It
is not a goal to reach or a promise to keep. It gives the session a starting point, and it
gives you something to come back to afterwards.

## Finding yours

Take some quiet time before your preparatory session. You might ask yourself:

- What brought me to this program, and what would I like to be different?
- What do I keep avoiding, and what would I like to look at with more kindness?
- What would I like to understand about myself or about a relationship?
- What would I like to feel more of, or less of?

Write down whatever comes, without judging it. Then try to say it in one short sentence, in
your own words: "I would like to understand my grief", "I want to be kinder to myself",
"Show me what I need to see".

## Holding it lightly

Sessions rarely go where we expect. You might set an intention about your work and find
yourself with a memory from childhood, or feel nothing in particular at all. That is not a
failed session. Your therapist helps you connect what happened with your intention during
integration, when there is time to make sense of it.

## Sharing it

You can share your intention with your therapist before the session, and you can change it
at any time. Some people keep it private, and that is fine too.
""",
        "body_fr": """
Une intention est une phrase simple qui dit ce que vous aimeriez explorer, comprendre ou
laisser aller. Ce n’est ni un but à atteindre ni une promesse à tenir. Elle donne à la séance
un point de départ, et vous offre un repère auquel revenir ensuite.

## Trouver la vôtre

Prenez un moment au calme avant votre séance préparatoire. Vous pourriez vous demander :

- Qu’est-ce qui m’amène à ce programme, et qu’est-ce que j’aimerais voir changer ?
- Qu’est-ce que j’évite sans cesse, et que j’aimerais regarder avec plus de bienveillance ?
- Qu’est-ce que j’aimerais comprendre de moi-même ou d’une relation ?
- Qu’est-ce que j’aimerais ressentir davantage, ou moins ?

Notez ce qui vient, sans juger. Essayez ensuite de le dire en une courte phrase, avec vos
mots : « J’aimerais comprendre mon deuil », « Je veux m’accorder plus de douceur »,
« Montre-moi ce que j’ai besoin de voir ».

## La tenir avec légèreté

Les séances vont rarement là où on les attend. Vous pourriez formuler une intention sur votre
travail et vous retrouver avec un souvenir d’enfance, ou ne rien ressentir de particulier. Ce
n’est pas une séance ratée. Votre thérapeute vous aide à relier ce qui s’est passé à votre
intention pendant l’intégration, quand il y a du temps pour lui donner un sens.

## La partager

Vous pouvez confier votre intention à votre thérapeute avant la séance, et la changer en tout
temps. Certaines personnes la gardent pour elles, et c’est très bien aussi.
""",
    },
    {
        "slug": "after-the-session",
        "order": 50,
        "title_en": "After the session",
        "title_fr": "Après la séance",
        "body_en": """
The effects of ketamine wear off within hours, but what comes up in a session can keep
unfolding for days. The time after a session matters as much as the session itself.

## The rest of the day

- Go home with the person who came to fetch you, and rest.
- Do not drive, cycle or operate machinery until the next day.
- Avoid alcohol and other substances, and make no important decisions until the next day.
- Eat something light when you feel ready, and drink water.

Some people feel tired, a little unsteady or mildly nauseous for a few hours. This usually
passes by itself. If it does not, or if anything worries you, call the clinic.

## The days that follow

You may feel lighter, clearer or more open. You may also feel raw, emotional or unsettled.
Both are common, and both can be useful. Gentle habits help: sleep, time outdoors, writing or
drawing what you remember, quiet time with people you trust.

## Integration

Each dosing session is followed by an integration session with your therapist. Integration is
where the experience becomes change in your life: you put words to what happened, connect it
with your intention, and decide what you want to carry forward. Many people find this is the
most important part of the program.

## If you are struggling

If difficult feelings become overwhelming, contact the clinic. If you have thoughts of
suicide, call or text 9-8-8 at any time. In an emergency, call 911.
""",
        "body_fr": """
Les effets de la kétamine se dissipent en quelques heures, mais ce qui émerge pendant une
séance peut continuer de se déployer pendant des jours. Le temps qui suit une séance compte
autant que la séance elle-même.

## Le reste de la journée

- Rentrez avec la personne venue vous chercher, et reposez-vous.
- Ne conduisez pas, ne faites pas de vélo et n’utilisez pas de machines avant le lendemain.
- Évitez l’alcool et les autres substances, et ne prenez aucune décision importante avant le
  lendemain.
- Mangez léger quand vous en avez envie, et buvez de l’eau.

Certaines personnes se sentent fatiguées, un peu instables ou légèrement nauséeuses pendant
quelques heures. Cela passe en général de soi-même. Si ce n’est pas le cas, ou si quelque chose
vous inquiète, appelez la clinique.

## Les jours suivants

Vous pourriez ressentir de la légèreté, de la clarté ou de l’ouverture. Vous pourriez aussi
vivre des émotions à fleur de peau ou un sentiment de déséquilibre. Les deux sont fréquents, et les deux peuvent être utiles. De
petites habitudes douces aident : le sommeil, du temps dehors, écrire ou dessiner ce dont vous
vous souvenez, des moments calmes avec des personnes de confiance.

## L’intégration

Chaque séance de kétamine est suivie d’une séance d’intégration avec votre thérapeute. C’est
là que l’expérience devient un changement dans votre vie : vous mettez des mots sur ce qui
s’est passé, vous le reliez à votre intention et vous choisissez ce que vous voulez garder.
Beaucoup de personnes trouvent que c’est la partie la plus importante du programme.

## Si c’est difficile

Si des émotions difficiles deviennent envahissantes, communiquez avec la clinique. Si vous avez
des pensées suicidaires, appelez ou textez le 9-8-8, en tout temps. En cas d’urgence, composez
le 911.
""",
    },
]

CONSENTS = [
    {
        "kind": "treatment",
        "language": "en",
        "title": "Informed consent to ketamine-assisted therapy",
        "body": """
Please read this document carefully and take the time you need. Ask your care team about
anything that is unclear before you sign. Signing it means that you understand what the
treatment involves and agree to receive it; it does not take away any of your rights.

## What ketamine is

Ketamine is a synthetic medicine, first made in 1963 and approved for medical use in 1970. It
is a dissociative anaesthetic and appears on the World Health Organization's List of Essential
Medicines. It is used in surgery, in emergency care and for pain because it acts quickly, has a
good safety record and wears off fast.

## This use is off-label

Ketamine is not approved in Canada for the treatment of depression, anxiety, post-traumatic
stress or addiction. Using an approved medicine for another purpose is called "off-label" use.
Doctors have prescribed ketamine this way, at doses well below those used for anaesthesia, for
about twenty years. Research supports its use, but long-term effects of repeated treatment are
less well known than those of older treatments.

## The treatment

Ketamine-assisted therapy combines psychotherapy with ketamine given in a supervised setting.
It includes preparation, a medical assessment, a series of dosing sessions, each followed by an
integration session, and follow-up. A medical practitioner sets the dose and the route for you,
and may change them or stop the treatment for your safety.

## The routes used here

This clinic gives ketamine in two ways only: as a nasal spray, or as a rapid-dissolving tablet
under the tongue (sublingual). We do not give it by injection or by intravenous infusion.

## Expected effects

During a session, you may feel some relief of pain, anxiety or low mood; more sensitivity to
light and sound; a dream-like or floating feeling; reduced sensation in the body; an altered
sense of time; and mild changes in sight and hearing. The effects begin within minutes and
wear off within a few hours. The experience can be pleasant or difficult, mild or intense, and
difficult feelings or painful memories may come up.

## Risks and side effects

Common: a rise in blood pressure and heart rate during the session; nausea or vomiting;
dizziness, unsteadiness or blurred vision; tiredness or headache afterwards; anxiety or
distress during the experience.

Less common or with repeated use: confusion or agitation; a worsening of mood after a session;
bladder irritation with frequent use; a risk of misuse or dependence, which is why ketamine is
only ever given here in the clinic, never to take home.

Your vital signs are checked before, during and after each session. If your blood pressure is
too high before a session, the session is postponed. You must not drive, cycle or operate
machinery until the next day, and someone must take you home.

Ketamine may not be suitable if you have, or have had, psychosis (such as hallucinations),
mania, untreated high blood pressure, heart disease, a stroke or seizures, or if you are
pregnant or nursing. Tell the medical team about every health condition, medicine and
substance you use, and about any change during the treatment.

## Your right to stop or withdraw

Taking part is your choice. You may ask to stop a session at any time, decline any part of the
treatment, or withdraw from the program entirely, without giving a reason and without any
effect on the other care you receive. Withdrawing does not cancel the records already made
about the care you received.

## Confidentiality and its limits

What you share with the care team is confidential and is kept in your health record, which
only the people caring for you may read; every staff access to it is logged. We share
information without your consent only where the law requires or allows it, for example:

- when there is a serious and imminent risk of death or serious injury to you or to someone
  else;
- when a child's safety or development may be at risk, as child-protection laws require;
- when a court orders it, or when a professional order or regulator inspects our records.

When this happens, we share only what is necessary and, where we can, we tell you first.

## Your agreement

By signing, you confirm that you have read and understood this document, that you had the
chance to ask questions and received answers, and that you consent to ketamine-assisted
therapy at this clinic. You can withdraw this consent at any time.
""",
    },
    {
        "kind": "treatment",
        "language": "fr",
        "title": "Consentement éclairé à la thérapie assistée par la kétamine",
        "body": """
Veuillez lire ce document attentivement et prendre le temps dont vous avez besoin. Posez vos
questions à votre équipe soignante sur tout ce qui n’est pas clair avant de signer. Le signer
signifie que vous comprenez ce que le traitement comporte et que vous acceptez de le recevoir ;
cela ne vous retire aucun de vos droits.

## Qu’est-ce que la kétamine ?

La kétamine est un médicament synthétique, créé en 1963 et approuvé pour l’usage médical en
1970. C’est un anesthésique dissociatif, inscrit sur la Liste des médicaments essentiels de
l’Organisation mondiale de la Santé. On l’utilise en chirurgie, en soins d’urgence et contre la
douleur parce qu’il agit vite, qu’il est reconnu pour sa sécurité et que son effet est de
courte durée.

## Un usage hors indication

La kétamine n’est pas approuvée au Canada pour traiter la dépression, l’anxiété, le stress
post-traumatique ou la dépendance. Utiliser un médicament approuvé à une autre fin s’appelle un
usage « hors indication ». Des médecins prescrivent la kétamine de cette façon, à des doses bien
inférieures à celles de l’anesthésie, depuis une vingtaine d’années. La recherche appuie cet
usage, mais les effets à long terme de traitements répétés sont moins bien connus que ceux de
traitements plus anciens.

## Le traitement

La thérapie assistée par la kétamine associe une psychothérapie à de la kétamine administrée
sous supervision. Elle comprend une préparation, une évaluation médicale, une série de séances
de kétamine, chacune suivie d’une séance d’intégration, et un suivi. Un membre de l’équipe
médicale fixe la dose et la voie d’administration pour vous, et peut les modifier ou arrêter le
traitement pour votre sécurité.

## Les voies utilisées ici

Notre clinique administre la kétamine de deux façons seulement : en vaporisateur nasal, ou en
comprimé à dissolution rapide placé sous la langue (sublingual). Nous ne la donnons ni par
injection ni par perfusion intraveineuse.

## Effets attendus

Pendant une séance, vous pourriez ressentir un apaisement de la douleur, de l’anxiété ou de
l’humeur dépressive ; une plus grande sensibilité à la lumière et aux sons ; une impression de
rêve ou de flottement ; moins de sensations dans le corps ; une perception du temps modifiée ;
et de légers changements de la vue et de l’ouïe. Les effets commencent en quelques minutes et
se dissipent en quelques heures. L’expérience peut être agréable ou difficile, légère ou
intense, et des émotions difficiles ou des souvenirs douloureux peuvent remonter.

## Risques et effets indésirables

Fréquents : une hausse de la tension artérielle et du pouls pendant la séance ; des nausées ou
des vomissements ; des étourdissements, une instabilité ou une vision trouble ; de la fatigue
ou un mal de tête ensuite ; de l’anxiété ou de la détresse pendant l’expérience.

Moins fréquents, ou liés à un usage répété : de la confusion ou de l’agitation ; une baisse de
l’humeur après une séance ; une irritation de la vessie en cas d’usage fréquent ; un risque de
mauvais usage ou de dépendance, et c’est pourquoi la kétamine n’est jamais donnée ici qu’à la
clinique, jamais à emporter.

Vos signes vitaux sont mesurés avant, pendant et après chaque séance. Si votre tension est trop
élevée avant une séance, celle-ci est reportée. Vous ne devez ni conduire, ni faire du vélo, ni
utiliser de machines avant le lendemain, et quelqu’un doit vous raccompagner.

La kétamine peut ne pas convenir si vous avez ou avez eu une psychose (par exemple des
hallucinations), un épisode de manie, une hypertension non traitée, une maladie du cœur, un
accident vasculaire cérébral ou des convulsions, ou si vous êtes enceinte ou allaitez.
Informez l’équipe médicale de tous vos problèmes de santé, médicaments et substances, et de
tout changement pendant le traitement.

## Votre droit d’arrêter ou de vous retirer

Participer est votre choix. Vous pouvez demander d’arrêter une séance en tout temps, refuser
toute partie du traitement ou vous retirer complètement du programme, sans avoir à donner de
raison et sans aucun effet sur les autres soins que vous recevez. Vous retirer n’efface pas les
dossiers déjà constitués sur les soins reçus.

## La confidentialité et ses limites

Ce que vous confiez à l’équipe soignante est confidentiel et conservé dans votre dossier de
santé, que seules les personnes qui vous soignent peuvent consulter ; chaque consultation par
le personnel est journalisée. Nous ne communiquons des renseignements sans votre consentement
que lorsque la loi l’exige ou le permet, par exemple :

- lorsqu’il existe un risque sérieux et imminent de mort ou de blessures graves pour vous ou
  pour une autre personne ;
- lorsque la sécurité ou le développement d’un enfant peut être compromis, comme l’exigent les
  lois sur la protection de la jeunesse ;
- lorsqu’un tribunal l’ordonne, ou lorsqu’un ordre professionnel ou un organisme de
  réglementation inspecte nos dossiers.

Dans ces cas, nous ne communiquons que le nécessaire et, lorsque c’est possible, nous vous en
informons d’abord.

## Votre accord

En signant, vous confirmez avoir lu et compris ce document, avoir pu poser vos questions et
obtenu des réponses, et consentir à la thérapie assistée par la kétamine dans notre clinique.
Vous pouvez retirer ce consentement en tout temps.
""",
    },
    {
        "kind": "filming",
        "language": "en",
        "title": "Consent to the filming of dosing sessions",
        "body": """
This consent is separate from your consent to treatment. You may give it or decline it, and
your answer has no effect on your care: if you decline, your sessions are simply not filmed.

## Why we film sessions

During a dosing session, people can be more vulnerable than usual. Filming protects you: it
lets the clinic check that every session follows our safety and ethical standards, review what
happened if there is ever a concern or a complaint, and support the supervision and training of
our therapists.

## How recordings are kept

Recordings are stored securely and confidentially, to the standards that apply to medical
records: in private, access-controlled storage that is never reachable from the public web,
with a fingerprint that shows whether a file has been altered. They are not part of the notes
you receive and are never shared outside the clinic, except where the law requires it (for
example a court order).

Recordings are kept for a limited period set by your clinic (90 days unless the clinic tells
you otherwise), then deleted automatically.

## Who may watch them

Only members of the clinic's care team who have been given this specific permission may watch
a recording, and only for the purposes above. They must confirm their identity again before
watching, and every viewing is logged. A recording is never used for publicity, research or
teaching outside the clinic without a separate, written consent from you.

## Your right to decline or withdraw

You may decline now, without any effect on the care you receive. If you consent, you may
withdraw your consent at any time from your portal, even between sessions or after your last
one. From then on, no session is filmed, and the recordings already made are queued for
deletion at once and deleted within a few days; the deletion is logged.

## Your agreement

By signing, you agree that your dosing sessions at this clinic are filmed and that the
recordings are kept and used as described above.
""",
    },
    {
        "kind": "filming",
        "language": "fr",
        "title": "Consentement à l’enregistrement vidéo des séances de kétamine",
        "body": """
Ce consentement est distinct de votre consentement au traitement. Vous pouvez le donner ou le
refuser, et votre réponse n’a aucun effet sur vos soins : si vous refusez, vos séances ne sont
tout simplement pas filmées.

## Pourquoi nous filmons les séances

Pendant une séance de kétamine, on peut être plus vulnérable qu’à l’habitude. L’enregistrement
vous protège : il permet à la clinique de vérifier que chaque séance respecte nos normes de
sécurité et d’éthique, de revoir ce qui s’est passé en cas de préoccupation ou de plainte, et
de soutenir la supervision et la formation de nos thérapeutes.

## Comment les enregistrements sont conservés

Les enregistrements sont conservés de façon sécuritaire et confidentielle, selon les normes qui
s’appliquent aux dossiers médicaux : dans un stockage privé à accès contrôlé, jamais accessible
depuis le Web public, avec une empreinte qui révèle toute modification d’un fichier. Ils ne font
pas partie des notes qui vous sont remises et ne sont jamais communiqués hors de la clinique,
sauf si la loi l’exige (par exemple une ordonnance d’un tribunal).

Les enregistrements sont conservés pendant une durée limitée fixée par votre clinique (90 jours,
sauf avis contraire de la clinique), puis supprimés automatiquement.

## Qui peut les visionner

Seuls les membres de l’équipe soignante de la clinique qui ont reçu cette autorisation précise
peuvent visionner un enregistrement, et seulement aux fins décrites ci-dessus. Ils doivent
confirmer de nouveau leur identité avant de le visionner, et chaque visionnement est journalisé.
Un enregistrement n’est jamais utilisé pour la publicité, la recherche ou l’enseignement hors de
la clinique sans un consentement écrit distinct de votre part.

## Votre droit de refuser ou de retirer votre consentement

Vous pouvez refuser maintenant, sans aucun effet sur les soins que vous recevez. Si vous
consentez, vous pouvez retirer votre consentement en tout temps depuis votre portail, même entre
deux séances ou après la dernière. Dès lors, aucune séance n’est filmée, et les enregistrements
déjà faits sont aussitôt mis en file pour suppression et supprimés dans les jours qui suivent ;
la suppression est journalisée.

## Votre accord

En signant, vous acceptez que vos séances de kétamine dans notre clinique soient filmées et que
les enregistrements soient conservés et utilisés comme décrit ci-dessus.
""",
    },
]

for _module in MODULES:
    for _key in ("body_en", "body_fr"):
        _module[_key] = _clean(_module[_key])
    _module["title_fr"] = _fr(_module["title_fr"])
    _module["body_fr"] = _fr(_module["body_fr"])
for _document in CONSENTS:
    _document["body"] = _clean(_document["body"])
    if _document["language"] == "fr":
        _document["title"] = _fr(_document["title"])
        _document["body"] = _fr(_document["body"])


def install(apps=None) -> None:
    """Create version 1 of each module and consent document that does not
    exist yet (idempotent: an edited module or a newer document is left as
    it is). `apps` is the migration's app registry, or None for the real
    models (the demo seed, tests)."""
    from .models import text_sha256

    if apps is None:
        from django.apps import apps as registry

        apps = registry
    Module = apps.get_model("dosing", "PreparationModule")
    ModuleVersion = apps.get_model("dosing", "PreparationModuleVersion")
    ConsentDocument = apps.get_model("dosing", "ConsentDocument")
    for spec in MODULES:
        module, _created = Module.objects.get_or_create(
            slug=spec["slug"], defaults={"order": spec["order"], "required": True}
        )
        if not ModuleVersion.objects.filter(module=module).exists():
            ModuleVersion.objects.create(
                module=module,
                number=1,
                title_en=spec["title_en"],
                title_fr=spec["title_fr"],
                body_en=spec["body_en"],
                body_fr=spec["body_fr"],
                published_at=VERSION_1_IN_FORCE_FROM,
            )
    for spec in CONSENTS:
        if ConsentDocument.objects.filter(
            kind=spec["kind"], language=spec["language"], version=1
        ).exists():
            continue
        # The historical model in a migration has no custom save(): the
        # fingerprint is set here, as the model's save() would.
        ConsentDocument.objects.create(
            kind=spec["kind"],
            version=1,
            language=spec["language"],
            title=spec["title"],
            body=spec["body"],
            sha256=text_sha256(spec["title"], spec["body"]),
            in_force_from=VERSION_1_IN_FORCE_FROM,
            created_at=VERSION_1_IN_FORCE_FROM,
        )
