"""Declaring a command once: its options, its checks, its run and its run folder.

A command is a :class:`Command`: a frozen options class whose fields carry their help,
allowed values and defaults (:func:`option`), ``prepare(paradigm, options) -> plan``
(every check that needs no model) and ``run(plan, lm) -> Result`` (the only step that
sees a model). From the declaration come the argparse subcommand
(:func:`add_subcommand`), the options reference (:func:`options_markdown`,
``docs/options.md``) and the run folder (:func:`write_run_folder`). This layer sits
just above ``probing._core`` and imports nothing else of ours; it never imports torch.
"""

from probing.commands.command import Command, Paradigm, Part, Parts, Result, Utility, identify
from probing.commands.docs import DOCDICT, fill_doc, options_markdown
from probing.commands.options import (
    CACHED_RUN_FOLDER,
    RUN_FOLDER,
    ActivationOptions,
    BatchOption,
    BootOptions,
    CacheSettings,
    CorrectionOption,
    LayersOption,
    ModelSettings,
    Options,
    RandomStateOption,
    RunFolderSettings,
    SeedOption,
    SiteOption,
    StatsOptions,
    StudyFolderSettings,
    option,
    option_fields,
)
from probing.commands.parser import add_subcommand, options_from_args
from probing.commands.runfolder import (
    check_table,
    finished_part,
    read_part,
    start_study,
    write_part,
    write_run_folder,
)

__all__ = ["CACHED_RUN_FOLDER", "DOCDICT", "RUN_FOLDER", "ActivationOptions", "BatchOption",
           "BootOptions", "CacheSettings", "Command", "CorrectionOption", "LayersOption",
           "ModelSettings", "Options", "Paradigm", "Part", "Parts", "RandomStateOption", "Result",
           "RunFolderSettings", "SeedOption", "SiteOption", "StatsOptions", "StudyFolderSettings",
           "Utility", "add_subcommand", "check_table", "fill_doc", "finished_part", "identify", "option",
           "option_fields", "options_from_args", "options_markdown", "read_part", "start_study",
           "write_part", "write_run_folder"]
