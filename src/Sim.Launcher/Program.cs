using Sim.Launcher;

// First of all: building the command line already starts the thread pool, which reads its spin limit once.
ThreadPoolSpin.Choose(args);
return await Cli.RunAsync(args);
