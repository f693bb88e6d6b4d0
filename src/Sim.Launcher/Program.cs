using Sim.Launcher;

return await Cli.RunAsync(args);
