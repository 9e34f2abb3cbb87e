"""The column vocabulary: every tidy table is built from these names, each with one meaning.

A name means the same thing in every table that has it, so tables from different
commands concatenate (``pd.concat``) without renaming. ``TABLES`` lists the columns of
each table a command writes, in order; :func:`check_columns` is what tests and writers
use to keep them honest. ``docs/vocabulary.md`` is generated from this module
(:func:`vocabulary_markdown`) and a test keeps the two equal.
"""

from __future__ import annotations

import warnings
from types import MappingProxyType

from probing._core.errors import ProbingError

__all__ = ["COLUMNS", "IDENTITY", "PARAMETERS", "RENAMED_COLUMNS", "TABLES", "add_identity",
           "check_columns", "parameters_markdown", "rename_old_columns", "table_columns",
           "vocabulary_markdown"]

# name -> (dtype, meaning)
_COLUMNS = {
    # identity: who and what produced a row
    "model": ("str", "the model's name (alias, path or hub id as given)"),
    "paradigm": ("str", "the paradigm's `name`"),
    "layer": ("int", "0 = embeddings, i = output of block i (as in `hidden_states`)"),
    "layer_a": ("int", "second-order RSA: the first layer of a pair (a `layer`)"),
    "layer_b": ("int", "second-order RSA: the second layer of a pair (a `layer`)"),
    "site": ("str", "recording site: `resid_post`, `mlp_out`, `attn_out`, `mlp_post`, `q`, `k`, "
             "`v` (TransformerLens names); interventions also `resid_pre`, `head_out`, "
             "`pattern`"),
    # stimuli and their parts
    "stimulus_id": ("str", "stable id of one stimulus; joins every table"),
    "item_id": ("str", "the item: stimuli of one item share their lexical material"),
    "condition": ("str", "the design cell: factor levels joined by `_` (`all` without factors)"),
    "text": ("str", "the stimulus text as scored"),
    "phenomenon": ("str", "minimal pairs: the phenomenon (BLiMP's UID or the paradigm's name)"),
    "pair_id": ("str", "minimal pairs: the pair; its members share it"),
    "role": ("str", "minimal pairs: `good` or `bad`"),
    "identical": ("bool", "minimal pairs: the two members are the same text (left out of accuracy)"),
    "suite": ("str", "factorial designs: the suite (SyntaxGym) or paradigm name"),
    "region": ("str", "a named region of a stimulus"),
    "message_index": ("int", "dialogues: 1-based position of a message in its dialogue"),
    "chat_role": ("str", "dialogues: the chat-template role a message is sent in: `system`, "
                         "`user`, `assistant` or `tool`"),
    "agent": ("str", "dialogues: the named agent that sends a message (empty: the role itself)"),
    "region_number": ("int", "1-based position of the region in the stimulus"),
    "word_index": ("int", "0-based index of a whitespace word in its stimulus"),
    "word": ("str", "a whitespace-delimited word; punctuation stays with its word"),
    "token_index": ("int", "0-based index of a token in its stimulus (start token excluded)"),
    "token_id": ("int", "the tokenizer's id"),
    "token": ("str", "the token's text"),
    "char_start": ("int", "first character of a span in `text` (0-based)"),
    "char_end": ("int", "one past the last character of a span in `text`"),
    "rating": ("float", "ratings: the mean human acceptability rating of a sentence"),
    "unigram_logprob": ("float", "ratings: the sentence's summed unigram log-probability "
                        "(natural log; SLOR's and NormLP's baseline)"),
    "n_words": ("int", "ratings: the sentence's words as wordfreq counts them (SLOR's length "
                "with slor_length words)"),
    "LP": ("float", "ratings: the sentence's log-probability, log P(s) (Lau et al. 2017)"),
    "MeanLP": ("float", "ratings: LP divided by the sentence's length"),
    "PenLP": ("float", "ratings: LP / ((5 + |s|) / 6) ** 0.8 (length-penalised)"),
    "NormLP": ("float", "ratings: -LP / log P_u(s), the log-probability normalised by its "
               "unigram log-probability"),
    "SLOR": ("float", "ratings: (LP - log P_u(s)) / |s|, the syntactic log-odds ratio"),
    "n_tokens": ("int", "number of tokens of the stimulus, word or region"),
    # measures
    "logprob": ("float", "natural-log probability of a token given its left context"),
    "surprisal": ("float", "-logprob in nats (summed over a word's or region's tokens)"),
    "surprisal_bits": ("float", "surprisal in bits"),
    "logprob_eow": ("float", "log-probability that the next token starts a new word or ends the text"),
    "eow_corrected": ("bool", "word/region surprisal includes the end-of-word terms (Pimentel & Meister 2024)"),
    "logprob_sum": ("float", "sum of a stimulus's token log-probabilities"),
    "logprob_mean": ("float", "logprob_sum / n_tokens"),
    "good": ("str", "minimal pairs: the good member's text"),
    "bad": ("str", "minimal pairs: the bad member's text"),
    "logprob_good": ("float", "minimal pairs: the good member's score (sum or mean, see manifest)"),
    "logprob_bad": ("float", "minimal pairs: the bad member's score"),
    "correct": ("float", "1.0 when the model's preference (or the prediction) holds, else 0.0"),
    "tie": ("bool", "minimal pairs: the members' scores are equal within the comparison tolerance"),
    "n_ties": ("int", "tied pairs: reported on their own and left out of the test"),
    "prediction": ("str", "a prediction of the paradigm: its name where the file gives one, else its formula"),
    # statistics (the same names in every analysis)
    "metric": ("str", "what `estimate` measures (accuracy, spearman, restored_fraction, ...)"),
    "estimate": ("float", "a row's point estimate; what it estimates is named by the row's "
                          "`metric` (or `term` in a mixed model, `measure` in alignment)"),
    "ci_low": ("float", "lower end of the 95% interval of `estimate`"),
    "ci_high": ("float", "upper end of the 95% interval of `estimate`"),
    "stat": ("float", "the test statistic"),
    "p_val": ("float", "uncorrected p-value"),
    "p_corr": ("float", "p-value corrected across the family named by `correction`"),
    "correction": ("str", "multiple-comparison correction: holm, bonferroni, fdr_bh, max_t "
                          "(Westfall-Young max-|t| over item sign flips; `ci_low`, `ci_high` "
                          "are then simultaneous over the family) or none"),
    "n_cells": ("int", "cells (tests) in the family `p_corr` is corrected over"),
    "n": ("int", "number of observations behind `estimate`"),
    "n_excluded": ("int", "observations left out (e.g. identical pairs)"),
    "accuracy": ("float", "share of `correct`"),
    "term": ("str", "mixed model: the model term"),
    "std_err": ("float", "mixed model: its standard error"),
    "converged": ("bool", "mixed model: the fit converged with finite standard errors"),
    "n_obs": ("int", "mixed model: observations"),
    "df": ("float", "degrees of freedom of the t reference of `stat` (NaN for a normal one)"),
    "n_items": ("int", "number of items (independent units) an interval and test rest on; "
                       "fewer than 20 warn"),
    "n_groups": ("int", "number of groups (items) behind a fit or an interval"),
    # representational similarity analysis (probing rsa)
    "model_rdm": ("str", "RSA: the model (hypothesis) RDM compared with the layer's RDM"),
    "distance": ("str", "RSA: how the layer's RDM was computed (correlation, cosine, "
                        "euclidean, crossnobis, ...)"),
    "alternative": ("str", "the alternative hypothesis of `p_val`: greater, less or two-sided"),
    "n_perm": ("int", "permutations (or sign flips) behind `p_val`, or behind `p_corr` when "
                      "`correction` is max_t"),
    "exact": ("bool", "that p-value enumerates every permutation (else Monte Carlo)"),
    "n_boot": ("int", "bootstrap resamples behind the interval (0: none)"),
    "n_stimuli": ("int", "RSA: rows of the RDM (stimulus ids after averaging)"),
    # causal analyses' own tables (probing.causal, probing.models)
    "run": ("str", "patch_pairs: `source` or `target` (a member's plain run) or `patched`"),
    "member": ("str", "patch_pairs: whose tokens a log-probability sums (`source`, `target`)"),
    "sender": ("str", "path patching: the component patched from the source member, "
               "`site:layer[:head]`; empty on unpatched runs"),
    "receiver": ("str", "path patching: the one component the sender's change reaches the "
                 "read-out through, `site:layer[:head]`; empty on unpatched runs"),
    "alignment": ("str", "patching: how the members' tokens are aligned, through their "
                         "words (`token`: every word splits alike, token by token; `word`: "
                         "a word split differently aligns its first and last tokens)"),
    "n_candidates": ("int", "attribution screen: cells the screen ranked"),
    "clean": ("float", "patching: read-out (good minus bad) of the pair's clean run"),
    "corrupted": ("float", "patching: read-out of the pair's corrupted run"),
    "patched": ("float", "patching: read-out of the pair's run with the cell patched"),
    "restored": ("float", "patching: (patched - corrupted) / (clean - corrupted) of one pair"),
    "reason": ("str", "why a pair was excluded (one line)"),
    "split": ("str", "mediation: the items a pair belongs to: `selection` (the top "
                     "mediators are ranked on them), `test` (their effects are measured on "
                     "them) or `both` (`--split 1`)"),
    "from_position": ("str", "crossover: the position the effect leaves"),
    "to_position": ("str", "crossover: the position the effect moves to"),
    "from_effect": ("float", "crossover: effect at `from_position`"),
    "from_ci_low": ("float", "crossover: lower end of its interval"),
    "from_ci_high": ("float", "crossover: upper end of its interval"),
    "to_effect": ("float", "crossover: effect at `to_position`"),
    "to_ci_low": ("float", "crossover: lower end of its interval"),
    "to_ci_high": ("float", "crossover: upper end of its interval"),
    "moved": ("bool", "crossover: the effect is larger at `to_position` than at "
                      "`from_position`"),
    "subspace": ("str", "interchange: the subspace intervened on (`probe`, `mean_difference`, "
                        "`random`, ...)"),
    "model_weights": ("str", "`trained`, or `reinitialised` (the control model)"),
    "n_repeats": ("int", "interchange: random subspaces averaged per pair"),
    "counterfactual": ("str", "DAS pairs: the base text continued as the causal model "
                              "predicts under the source's value"),
    "factual": ("str", "DAS pairs: the base text with its own continuation"),
    "step": ("int", "DAS training: the optimisation step"),
    "loss": ("float", "DAS training: the mean loss at that step"),
    "erasure": ("str", "amnesic probing: `leace` (the property erased) or `random` "
                       "(random directions of the same rank)"),
    "before": ("float", "amnesic probing: the measure without erasure"),
    "after": ("float", "amnesic probing: the measure with the erasure"),
    "fraction_lost": ("float", "amnesic probing: (before - after) / (before - chance)"),
    "check": ("str", "self-check: which identity of the intervention engine is tested"),
    "readout": ("str", "self-check: what is compared (logits, activations, ...)"),
    "tolerance": ("float", "self-check: the largest difference that passes"),
    "passed": ("bool", "self-check: `estimate <= tolerance`"),
    # localizers (probing localize)
    "z": ("float", "localizer: the unit's statistic as a standard-normal z"),
    "dof": ("float", "localizer: degrees of freedom of `stat`"),
    "selected": ("bool", "localizer: the unit is in the selection"),
    "selected_on": ("str", "localizer reliability and profile: the half (run) the units were "
                           "selected on"),
    "measured_on": ("str", "localizer reliability and profile: the half they were measured on"),
    "expected": ("float", "reliability: what random selections of the same size give"),
    "n_selected": ("int", "reliability: units selected"),
    "n_units": ("int", "reliability: units tested"),
    "cohens_d": ("float", "localizer: the unit's effect size, `estimate` over the residual SD "
                          "(Cohen's d with the pooled SD when there is no nuisance regressor); "
                          "+-inf for a perfect separator"),
    "shuffle": ("int", "localizer overlap null: index of a label shuffle (0-based)"),
    "half": ("str", "localizer: the half (run, or alternate items) a row was computed on"),
    "selection": ("str", "localizer: the selection rule, `top`, `fdr` or `fwe`"),
    "fraction": ("float", "localizer layer counts: the layer's units that were selected, as a "
                          "fraction"),
    "share": ("float", "localizer layer counts: the layer's share of all selected units"),
    "chosen": ("str", "localizer response choice: the response transform used, `raw` or "
                      "`absolute`"),
    "other": ("str", "localizer response choice: the other response transform"),
    "n_selected_chosen": ("int", "localizer response choice: units selected on `chosen`"),
    "n_selected_other": ("int", "localizer response choice: units selected on `other`"),
    "n_both": ("int", "localizer response choice: units selected on both"),
    "n_changed": ("int", "localizer response choice: units selected on exactly one"),
    "dice": ("float", "localizer response choice: Dice overlap of the two selections"),
    # design balance, mixed models, pooled seeds, fresh-vs-published mapping
    "test": ("str", "the test behind `stat` and `p_val` (e.g. `anova`, `wald`, `by_item`)"),
    "slot": ("str", "balance: the paradigm slot whose fillers are compared"),
    "mean": ("float", "balance: the measure's mean in the condition"),
    "sd": ("float", "standard deviation: of the measure in a condition (balance), of "
                    "`estimate` over seeds (pooled tables)"),
    "min": ("float", "pooled tables: smallest `estimate` over seeds"),
    "max": ("float", "pooled tables: largest `estimate` over seeds"),
    "seeds": ("str", "pooled tables: the seeds pooled, comma-separated"),
    "conditions": ("str", "fresh vs published: the generated conditions kept (space-"
                          "separated; empty: all)"),
    "match": ("str", "fresh vs published: how closely the generated construction matches "
                     "the BLiMP phenomenon (`close`, `partial`)"),
    # probes (probing probe)
    "probe": ("str", "probes: the classifier or regressor (e.g. `logistic`, `ridge`)"),
    "seed": ("int", "a random seed of the row (lexicon seed, control-task seed, task drift's "
                    "random direction); empty when none applies"),
    "majority": ("float", "probes: the score of predicting the training fold's most "
                          "frequent class (regression: its mean)"),
    "n_train": ("int", "probes: training rows of the fold"),
    "n_test": ("int", "probes: test rows of the fold"),
    "permute": ("str", "probe permutation test: what was exchanged (`rows`, `groups`, "
                        "`within_groups`)"),
    "a": ("str", "paired comparison: the first of the two compared (probe, layer, model)"),
    "b": ("str", "paired comparison: the second"),
    "chance": ("float", "probes: the expected score of guessing with the class frequencies "
                        "(regression: 0 for `r2`)"),
    "below_chance": ("bool", "probes: the interval lies below `chance`"),
    "note": ("str", "why a row's analysis was not done or needs care (empty when it was)"),
    # causal interventions (probing patch | mediate | ablate)
    "source": ("str", "patching: the text whose activations are copied in"),
    "target": ("str", "patching: the text that runs with them"),
    "direction": ("str", "patching: `denoising` (clean activation into the corrupted run) or "
                         "`noising` (corrupted into the clean run)"),
    "position": ("str", "patching: where in the target the activation is replaced: "
                        "`<region_number>:<region>` (the region's last token, its first, "
                        "or all of it: `region_token`) or a token index"),
    "head": ("int", "attention head at a head site (query head at `head_out`, `q`, `pattern`; "
             "key/value head at `k`, `v`); -1 or empty: the whole site"),
    "unit": ("int", "0-based index of a unit (dimension) of a site's vector; -1 in patching "
             "and mediation tables: the whole site or head"),
    "n_pairs": ("int", "patching: pairs behind a cell"),
    "k": ("int", "mediation: size of the top-k mediator set set jointly"),
    "rank": ("int", "1 = the largest effect"),
    "unit_set": ("str", "ablation: `given` (the unit table), `random` (matched random sets) "
                        "or `none` (the plain run)"),
    "set": ("int", "ablation: index of a random matched unit set"),
    "n_sets": ("int", "ablation: random matched unit sets behind the null"),
    # alignment with human data (probing run on ratings and reading_times paradigms)
    "measure": ("str", "alignment: the model measure compared with human data (LP, SLOR, "
                       "surprisal, ...)"),
    "word_position": ("int", "reading times: the word's position in its text (`item_id`) as "
                             "the data numbers it (Natural Stories' `zone`); not `position`"),
    "context": ("str", "ratings: the text read before the rated sentence (its words joined "
                       "by single spaces); the sentence is scored after it"),
    "rule": ("str", "reading times: an exclusion rule (`text_edge`, `sentence_edge`, "
                    "`punctuation`, `rt_min`, `rt_max`) or `any` (all excluded words)"),
    "subject": ("str", "reading times: the reader of a per-subject reading time (Natural "
                       "Stories' `WorkerId`); empty: all subjects"),
    "n_texts": ("int", "reading times: texts behind a statistic (the bootstrap's unit)"),
    "rt": ("float", "reading times: the word's reading time in the data's unit (Natural "
                    "Stories: ms, the mean over readers)"),
    "length": ("int", "reading times: the word's length in word characters (`\\w`; "
                      "punctuation left out)"),
    "frequency": ("float", "reading times: the word's unigram log-probability (wordfreq, nats)"),
    "fold": ("int", "cross-validation: the 0-based fold in which the row was held out"),
    "contrast": ("str", "the two conditions a score or effect compares, `positive-negative` "
                        "(task drift: `injected-clean`)"),
    "reply": ("str", "task drift: the assistant reply scored, `follow` (restates the user's "
                     "task) or `obey` (restates the injected goal)"),
    "edit": ("str", "task drift: the intervention of a scoring run, `none`, `probe_direction` "
                    "or `random_direction` (projected out of the tool output; one run per `seed`)"),
    "delta_loglik": ("float", "reading times: held-out log-likelihood of the word under the "
                              "model with surprisal minus the baseline's (nats)"),
    # prompted judgements (probing run --judgement both) and published vs fresh items
    "task": ("str", "what is asked of the model or probe: probes, `task` (the real labels) or "
                    "`control` (a control task's labels); judgements, `direct` "
                    "(log-probabilities), `yes_no` or `forced_choice` (prompts, Hu & Levy "
                    "2023) or `judge` (expected Likert ratings of the two members)"),
    "prompt_style": ("str", "judgements: `plain` prompt, `chat` (the tokenizer's chat template) "
                            "or `none` (direct)"),
    "order": ("str", "forced choice: `good_first`, `bad_first` or `both` (summed); judge: the "
                     "scale order (`ascending`, `descending`) or `both` (their mean); `none` "
                     "for other tasks"),
    "option": ("str", "prompts: the answer option (`Yes`, `No`, `1`, `2`; a judge scale's label)"),
    "logprob_option": ("float", "prompts: log-probability of the option's tokens after the "
                                "prompt (nats)"),
    "score_good": ("float", "judgements: the good member's score in its task (yes_no: "
                            "log p(Yes) - log p(No); forced_choice: log p of its label)"),
    "score_bad": ("float", "judgements: the bad member's score"),
    "human_agreement": ("float", "BLiMP: the published human agreement with the phenomenon's "
                                 "labels (Warstadt et al. 2020)"),
    "item_set": ("str", "fresh vs published: `published` (BLiMP), `fresh` (generated) or "
                        "`difference` (published minus fresh)"),
    "fresh_paradigm": ("str", "fresh vs published: the generated paradigm matched to the "
                              "BLiMP phenomenon"),
    "null_mean": ("float", "lesion: mean of the random sets' effects"),
    "null_sd": ("float", "lesion: standard deviation of the random sets' effects"),
    "p_normal": ("float", "lesion: p-value of the effect as a new draw from a normal fit to "
                          "the random sets' effects"),
    "p_normal_corr": ("float", "`p_normal` corrected across the family named by `correction`"),
    # a model as judge (probing.pipeline.judge_run): Likert ratings read from label probabilities
    "template": ("str", "judge: the name of the prompt template (paraphrase) in the scale file"),
    "scale_order": ("str", "judge: how the scale is listed in the prompt, `ascending` (lowest "
                           "label first) or `descending`"),
    "scale_value": ("float", "judge: the rating a label stands for"),
    "expected_rating": ("float", "judge: the probability-weighted mean of the scale values, "
                                 "the labels' probabilities renormalised to sum to 1"),
    "label_mass": ("float", "judge: the total probability of the scale's labels after the "
                            "prompt, before renormalising"),
    "bin": ("int", "calibration: 1-based bin of the model's rating (equal counts; 1 = lowest)"),
    # probes' class counts (probing probe)
    "label": ("str", "probes: one class of the probed label (the label's name is in the "
                     "manifest)"),
}
COLUMNS = MappingProxyType({name: MappingProxyType({"dtype": dtype, "meaning": meaning})
                            for name, (dtype, meaning) in _COLUMNS.items()})

#: Columns every table a command writes ends with (filled by the pipeline).
IDENTITY = ("model", "paradigm")

_TABLES = {
    "stimuli": ("stimulus_id", "item_id", "condition", "text"),
    "regions_spans": ("stimulus_id", "region", "region_number", "char_start", "char_end"),
    "words_spans": ("stimulus_id", "word_index", "word", "char_start", "char_end"),
    "messages_spans": ("stimulus_id", "message_index", "chat_role", "agent", "char_start",
                       "char_end"),
    "tokens": ("stimulus_id", "token_index", "token_id", "token", "char_start", "char_end",
               "logprob", "surprisal", "surprisal_bits", "logprob_eow"),
    "scores": ("stimulus_id", "item_id", "condition", "logprob_sum", "logprob_mean", "n_tokens"),
    "words": ("stimulus_id", "word_index", "word", "char_start", "char_end", "surprisal",
              "surprisal_bits", "n_tokens", "eow_corrected"),
    "pairs": ("phenomenon", "pair_id", "item_id", "condition", "good", "bad", "logprob_good",
              "logprob_bad", "correct", "tie", "identical"),
    "summary": ("phenomenon", "n", "n_excluded", "n_ties", "n_items", "accuracy", "ci_low",
                "ci_high",
                "p_val", "p_corr", "correction"),
    "regions": ("suite", "stimulus_id", "item_id", "condition", "region_number", "region",
                "surprisal", "n_tokens", "eow_corrected"),
    "predictions": ("suite", "item_id", "prediction", "correct"),
    "model_fit": ("region", "term", "estimate", "std_err", "stat", "p_val", "ci_low", "ci_high",
                  "converged", "n_obs", "n_groups", "test", "df", "note"),
    "probe_summary": ("layer", "probe", "task", "seed", "metric", "estimate", "ci_low",
                      "ci_high", "n_groups", "chance", "below_chance"),
    "rsa": ("layer", "site", "model_rdm", "distance", "metric", "estimate", "ci_low", "ci_high",
            "p_val", "p_corr", "correction", "alternative", "n_perm", "exact", "n_boot",
            "n_stimuli", "n_items"),
    "patching": ("direction", "layer", "site", "position", "head", "metric", "estimate", "ci_low",
                 "ci_high", "n_pairs", "n_items"),
    "patching_corrected": ("direction", "layer", "site", "position", "head", "metric",
                           "estimate", "ci_low", "ci_high", "stat", "df", "p_val", "p_corr",
                           "correction", "n_cells", "n_pairs", "n_items", "n_perm", "exact"),
    "patching_pairs": ("pair_id", "item_id", "direction", "layer", "site", "position", "head",
                       "clean", "corrupted", "patched", "estimate", "restored"),
    "path_patching": ("direction", "sender", "receiver", "position", "metric", "estimate",
                      "ci_low", "ci_high", "n_pairs", "n_items"),
    "path_patching_pairs": ("pair_id", "item_id", "direction", "sender", "receiver", "position",
                            "clean", "corrupted", "patched", "estimate", "restored"),
    "path_patching_corrected": ("direction", "sender", "receiver", "position", "metric",
                                "estimate", "ci_low", "ci_high", "stat", "df", "p_val", "p_corr",
                                "correction", "n_cells", "n_pairs", "n_items", "n_perm",
                                "exact"),
    "excluded_pairs": ("pair_id", "item_id", "reason"),
    "patch_pairs": ("pair_id", "item_id", "phenomenon", "source", "target"),
    "mediation": ("layer", "site", "position", "head", "unit", "metric", "estimate", "ci_low",
                  "ci_high", "n", "n_items"),
    "mediation_test": ("layer", "site", "position", "head", "unit", "metric", "estimate",
                       "ci_low", "ci_high", "n", "n_items"),
    "mediation_items": ("pair_id", "item_id", "layer", "site", "position", "head", "unit",
                        "metric", "estimate"),
    "mediation_joint": ("k", "metric", "estimate", "ci_low", "ci_high", "n", "n_items"),
    "top_mediators": ("layer", "site", "position", "head", "unit", "rank", "estimate"),
    "top_units": ("rank", "layer", "site", "unit"),
    "mediation_split": ("pair_id", "item_id", "split"),
    "ablation": ("phenomenon", "unit_set", "metric", "estimate", "ci_low", "ci_high", "p_val",
                 "p_corr", "correction", "n", "n_items", "n_sets"),
    "ablation_behaviour": ("phenomenon", "unit_set", "metric", "estimate", "n"),
    "ablation_null": ("phenomenon", "metric", "set", "estimate"),
    "random_sets": ("set", "layer", "site", "unit"),
    "alignment": ("layer", "measure", "metric", "estimate", "ci_low", "ci_high", "n"),
    "reading_exclusions": ("rule", "subject", "n_excluded", "n"),
    "reading": ("stimulus_id", "word_index", "word", "char_start", "char_end", "item_id",
                "word_position", "subject", "rt", "surprisal", "eow_corrected", "length", "frequency",
                "fold", "delta_loglik"),
    "prompts": ("phenomenon", "pair_id", "task", "prompt_style", "order", "role", "option",
                "logprob_option"),
    "judgements": ("phenomenon", "pair_id", "task", "prompt_style", "order", "score_good",
                   "score_bad", "correct", "tie"),
    "judgement_summary": ("phenomenon", "task", "prompt_style", "order", "metric", "estimate",
                          "ci_low", "ci_high", "stat", "p_val", "p_corr", "correction", "n"),
    "judge_prompts": ("stimulus_id", "prompt_style", "template", "scale_order", "option",
                      "scale_value", "logprob_option"),
    "judge_ratings": ("stimulus_id", "prompt_style", "template", "scale_order",
                      "expected_rating", "label_mass"),
    "judge_summary": ("prompt_style", "measure", "metric", "estimate", "ci_low", "ci_high", "stat",
                      "p_val", "n"),
    "judge_calibration": ("prompt_style", "bin", "expected_rating", "rating", "ci_low",
                          "ci_high", "n"),
    "fresh_vs_published": ("phenomenon", "fresh_paradigm", "item_set", "metric", "estimate",
                           "ci_low", "ci_high", "stat", "p_val", "p_corr", "correction", "n"),
    "lesion": ("phenomenon", "metric", "estimate", "ci_low", "ci_high", "null_mean", "null_sd",
               "stat", "p_val", "p_corr", "p_normal", "p_normal_corr", "correction", "n",
               "n_items", "n_sets"),
    "lens": ("layer", "metric", "estimate", "n"),
    "lens_scores": ("stimulus_id", "layer", "logprob_sum", "n_tokens"),
}
TABLES = MappingProxyType(_TABLES)


def table_columns(name, *, identity=False):
    """The columns of table ``name`` in order (plus ``model, paradigm`` with ``identity``).

    Examples
    --------
    >>> table_columns("predictions", identity=True)
    ['suite', 'item_id', 'prediction', 'correct', 'model', 'paradigm']
    """
    if name not in TABLES:
        raise ProbingError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    return [*TABLES[name], *(IDENTITY if identity else ())]


def add_identity(frame, *, model, paradigm):
    """``frame`` with ``model`` and ``paradigm`` as its last columns (kept if already there).

    Examples
    --------
    >>> import pandas as pd
    >>> add_identity(pd.DataFrame({"estimate": [1.0]}), model="m", paradigm="p").columns.tolist()
    ['estimate', 'model', 'paradigm']
    """
    identity = {"model": model, "paradigm": paradigm}
    frame = frame.assign(**{k: v for k, v in identity.items() if k not in frame})
    return frame[[c for c in frame if c not in identity] + list(IDENTITY)]


def check_columns(columns, where):
    """Raise when a column name is not in the vocabulary (a new name must be added here).

    Examples
    --------
    >>> check_columns(["stimulus_id", "estimate"], "my table")
    >>> check_columns(["item"], "regions.csv")
    Traceback (most recent call last):
    ...
    probing._core.errors.ProbingError: regions.csv: column(s) ['item'] are not in the vocabulary (probing._core.vocabulary)
    """
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ProbingError(f"{where}: column(s) {unknown} are not in the vocabulary "
                           f"(probing._core.vocabulary)")


#: Columns renamed since a release wrote them: old name -> new name. ``value`` and
#: ``effect`` both named a row's point estimate (as ``estimate`` did in mixed models).
RENAMED_COLUMNS = MappingProxyType({"value": "estimate", "effect": "estimate"})
_WARNED = set()  # old names already reported in this process: the warning comes once


def rename_old_columns(frame, where):
    """``frame`` with the old column names of :data:`RENAMED_COLUMNS` renamed, once.

    For the package reading its own tables back from a run folder an older release
    wrote (report, experiment pooling, resuming a run). Warns (``FutureWarning``) the
    first time each old name is met in a process.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     rename_old_columns(pd.DataFrame({"effect": [1.0]}), "old.csv").columns.tolist()
    ['estimate']
    """
    old = {c: RENAMED_COLUMNS[c] for c in frame.columns
           if c in RENAMED_COLUMNS and RENAMED_COLUMNS[c] not in frame.columns}
    if not old:
        return frame
    new = sorted(set(old) - _WARNED)
    if new:
        _WARNED.update(new)
        renames = ", ".join(f"{c!r} -> {old[c]!r}" for c in new)
        warnings.warn(f"{where}: a table from an older release; column(s) renamed on read: "
                      f"{renames} (see docs/vocabulary.md)", FutureWarning, stacklevel=2)
    return frame.rename(columns=old)


def vocabulary_markdown():
    """The vocabulary as the Markdown table of ``docs/vocabulary.md``."""
    lines = ["| column | dtype | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {c['dtype']} | {c['meaning']} |" for name, c in COLUMNS.items()]
    tables = ["| table | columns |", "|---|---|"]
    tables += [f"| {name} | {', '.join(f'`{c}`' for c in cols)} |" for name, cols in TABLES.items()]
    return "\n".join(lines) + "\n\n" + "\n".join(tables) + "\n"


# Parameter names of the public API: one meaning each. Old name -> new name, where a
# name meant several things; the old keyword works for one release with a
# DeprecationWarning (probing._core.deprecation). name -> (meaning, values, old names)
_PARAMETERS = {
    "metric": ("what a score or table value measures: the name in the tables' `metric` "
               "column", "accuracy, r2, spearman, logprob_diff, indirect_effect, ...", ""),
    "distance": ("how an RDM's dissimilarities are computed (`compute_rdm`, `rsa_layers`, "
                 "`bootstrap_items`, `RDMs.distance`, `probing rsa --distance`)",
                 "correlation, cosine, euclidean, sqeuclidean, mahalanobis, crossnobis; "
                 "`categorical`/`continuous` for model RDMs", "`metric`"),
    "comparison": ("how two RDMs (or two measures) are compared (`compare_rdms`, "
                   "`rsa_layers`, `permutation_test`, `bootstrap_*`, `noise_ceiling`, "
                   "`compare_layers`, `compare_models`, `compare_correlations`, "
                   "`probing rsa --comparison`)",
                   "spearman, pearson, tau_a, rho_a, cosine, whitened_cosine, whitened_pearson",
                   "`method`"),
    "correction": ("multiple-comparison correction of a family of p-values "
                   "(`correct_pvalues`, `correct_table`, every `--correction`)",
                   "holm, bonferroni, fdr_bh (`bh` is read as fdr_bh), none; across a "
                   "patching sweep (`sweep_correction`) also max_t", "`method`"),
    "interval": ("the kind of confidence interval (`bootstrap_ci`, `proportion_ci`, "
                 "`summarize_predictions`)", "percentile, basic, bca; wilson, clopper_pearson",
                 "`method`"),
    "engine": ("how a permutation null is computed (`permutation_test_layers`)",
               "auto, closed_form, refit", "`method`"),
    "covariance": ("the noise-covariance estimator (`estimate_noise_cov`)",
                   "shrinkage_diag, shrinkage_eye, diag, full", "`method`"),
    "calibration": ("the map from a measure to a rating scale (`calibrate_predictions`)",
                    "linear, isotonic", "`method`"),
    "reduction": ("how a region's or a stimulus's token values are combined (region "
                  "surprisal, pair comparison, `probing run --reduction`; a SyntaxGym "
                  "suite's `meta.metric`)", "sum, mean", "`metric` (stimuli info)"),
    "stimulus_ids": ("the stimulus id of each row of an RSA pattern matrix; rows sharing an "
                     "id are averaged (`compute_rdm`, `average_patterns`, `rsa_layers`, "
                     "`bootstrap_items`, `check_rdm`, `RDMs.stimulus_ids`, "
                     "`RDMs.reorder`)", "one label per row", "`conditions`"),
    "n_stimuli": ("number of rows of an RDM, one per stimulus id (`RDMs.n_stimuli`, "
                  "`draw_permutations`, the `n_stimuli` column of `rsa_layers` and "
                  "`probing rsa`)", "int >= 2", "`n_conditions`"),
    "bootstrap": ("what an RSA interval resamples (`rsa_layers`): the RDM's rows "
                  "(`\"stimuli\"`, `bootstrap_stimuli`; whole `groups` when given) or items "
                  "(`\"items\"`, `bootstrap_items`)", "stimuli, items, None",
                  "value `conditions` (now `stimuli`); `bootstrap_conditions` (now "
                  "`bootstrap_stimuli`)"),
    "condition": ("the design cell of a stimulus (factor levels joined by `_`), as in the "
                  "`condition` column; `conditions` (plural) is a list of them, e.g. in the "
                  "localizer. Never an RDM's rows: those are stimuli", "see the paradigm file",
                  ""),
    "groups": ("what cross-validation folds keep on one side (probes, controls). `\"auto\"` "
               "resolves the same way in every function: word type for word-level "
               "activations, `item_id` (with `stimuli=`) for sentence-level ones",
               "auto, types, sentences, items, None or one label per row", ""),
    "random_state": ("seed of every random draw of a function (folds, permutations, "
                     "resamples, `Intervention(op=\"resample\")`'s draw); default 0 everywhere "
                     "(`probing._core.defaults`)", "int, numpy Generator or None",
                     "`seed` (`Intervention`)"),
    "seed": ("a paradigm's generation seed (lexicon draws): the paradigm file's `seed:`, "
             "`--seed`, `generate(seed=)`, `load_source(seed=)`; never a function's random "
             "draws (`random_state`)", "int >= 0 or None (the file's own)", ""),
    "group_column": ("the column whose levels are the groups (items): random intercepts "
                     "(`fit_mixed_model`), the clusters of a sweep (`sweep_correction`)",
                     "a column name", "`groups` (a column name; `groups` is one label per "
                     "row)"),
    "column": ("the column a function averages or pools (`sweep_correction`, `pool_seeds`)",
               "a column name", "`value`"),
    "unit_table": ("a table of units, `layer, site, unit` (`check_unit_table`, "
                   "`sample_matched_units`, `interventions_from_units`, `localize_units`, "
                   "the localizer's overlap and plotting functions)", "pandas.DataFrame",
                   "`units` (a table)"),
    "unit_file": ("the path of a unit table file (`run_lesion`; the command-line flag is "
                  "still `--units`)", "path-like", "`units` (a path)"),
    "units": ("0-based indices of units of a site (`Intervention.units`, `patch_pairs`); "
              "`Intervention.units` also takes a subspace basis", "sequence of int or None",
              ""),
    "dtype": ("the dtype the model computes in (`load_model`, an experiment's "
              "`models[].dtype`, `--model-dtype`)", "float32, float16, bfloat16, ...", ""),
    "store_dtype": ("the dtype activations are stored in (`extract_activations`, "
                    "`compute_activations`, `--store-dtype`, an experiment's extract "
                    "`options.store_dtype`)", "float32, float16, float64", "`dtype`"),
    "feature_type": ("how a model RDM compares a factor's values (`build_model_rdm`; "
                     "`feature_types` in `build_model_rdms`)", "categorical, continuous",
                     "`kind`"),
    "file_type": ("which shipped files a name is looked up among (`resolve_file`, "
                  "`shipped_files`)", "paradigm, experiment", "`kind`"),
    "kind": ("a paradigm's kind (the paradigm file's `kind:`); still also a model's "
             "`causal`/`masked` (`load_model`, `LanguageModel`) and an experiment "
             "analysis's registry name, not renamed yet", "minimal_pairs, factorial, ...",
             ""),
    "clean_member": ("which member of a patched pair is the clean run "
                     "(`summarize_patching`)", "source, target", "`clean`"),
    "unablated": ("the per-item measure with no ablation (`ablation_test`)",
                  "array of shape (n_items,)", "`baseline` (a reading design's baseline "
                  "terms)"),
    "tick_labels": ("show an RDM's stimulus ids as tick labels (`plot_rdm`)", "bool",
                    "`labels` (one label per row)"),
    "model_rdm": ("one condensed model RDM (`stream_rsa`)", "array of shape (n_pairs,)",
                  "`model` (a model name or path)"),
    "pass_position_ids": ("pass a batch's position ids to the model (`forward_logits`)",
                          "bool", "`positions` (token positions)"),
    "n_perm": ("permutations of a permutation test; default 10,000 everywhere",
               "positive int", ""),
    "n_boot": ("bootstrap resamples of an interval; default 2,000 everywhere", "int >= 0", ""),
}
PARAMETERS = MappingProxyType({name: MappingProxyType(dict(zip(("meaning", "values", "old"), v, strict=True)))
                               for name, v in _PARAMETERS.items()})


def parameters_markdown():
    """The parameter names as the Markdown table of ``docs/vocabulary.md``."""
    lines = ["| parameter | meaning | values | replaces |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {p['meaning']} | {p['values']} | {p['old'] or '-'} |"
              for name, p in PARAMETERS.items()]
    return "\n".join(lines) + "\n"
